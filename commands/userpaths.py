"""Paths the user types mean what they mean where the command was typed.

The `./yuqing` launcher runs from the repository (for `.venv`, `.env` and the default `var/`), and passes the
folder it was called from in `YUQING_CALLER_DIR`; every file a command reads or writes on the user's word
(`extract page.html`, `report --csv out.csv`) goes through `user_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

CALLER_DIR = "YUQING_CALLER_DIR"


def caller_dir() -> Path:
    """The folder the command was typed in: the launcher's note of it, else the working directory."""
    return Path(os.environ.get(CALLER_DIR) or Path.cwd())


def user_path(text: str | Path) -> Path:
    """An absolute path for what the user typed: `~` expanded, a relative path taken from the caller's
    folder. Not resolved through symlinks, so it names what the user named."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(caller_dir() / path))
