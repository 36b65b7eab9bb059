"""A process that opens a database a second time keeps the locks of its first connection: the file's header
is read directly only before SQLite first opens it. Reading it again, and closing that descriptor, dropped
every lock the process held on the file; another process closing its own connection then took itself for
the last user and deleted the write-ahead log under the first one, which is how a one-process patrol,
opening the outbox once per source, came to find it "malformed"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import databases


def test_a_second_connection_leaves_the_first_ones_write_ahead_log_alone(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    wal = path.with_name(path.name + "-wal")
    first = databases.connect(path, schema="CREATE TABLE IF NOT EXISTS alerts (n INTEGER)")
    first.execute("INSERT INTO alerts VALUES (1)")
    assert wal.exists()
    databases.connect(path).close()  # another source's stage, opening and closing the same file

    subprocess.run(  # another process reads the file and closes it
        [
            sys.executable,
            "-c",
            f"import sqlite3; c = sqlite3.connect({str(path)!r}); c.execute('SELECT count(*) FROM alerts').fetchone(); c.close()",
        ],
        check=True,
    )
    assert wal.exists()  # still this process's: nobody else may checkpoint it away

    first.execute("INSERT INTO alerts VALUES (2)")
    assert first.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    first.close()
    reread = databases.connect(path, read_only=True)
    assert reread.execute("SELECT count(*) FROM alerts").fetchone() == (2,)


def test_a_damaged_file_is_still_named_before_it_is_first_opened(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    path.write_bytes(b"not a database at all" * 10)
    with pytest.raises(databases.DatabaseDamaged, match="不是 SQLite 数据库"):
        databases.connect(path)
