"""The tests read nothing beside the repository, so a clean clone with nothing next to it passes them."""

import pytest

from tests.conftest import REPOSITORY, OutsideRepository


def test_a_file_beside_the_repository_cannot_be_read() -> None:
    beside = REPOSITORY.parent / "shared" / "seeds" / "000.txt"
    with pytest.raises(OutsideRepository, match="outside the repository"):
        beside.read_text(encoding="utf-8")


def test_files_inside_the_repository_can_be_read() -> None:
    assert "yuqing" in (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
