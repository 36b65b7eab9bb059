"""What the embedded store adds to the contract: a file shared by the crawl process and the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

from pipeline.items import Analysis, Post, Source, to_dict
from pipeline.store.sqlite import _TOKENIZER, SqliteStore

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path

    from pipeline.items import Analysis, Post, Source
    from pipeline.store.sqlite import SqliteStore

    store = SqliteStore(Path(sys.argv[1]))
    now = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
    for batch in range(20):
        store.write(
            Post(
                id=f"local:{batch}-{i}",
                source=Source.LOCAL,
                url=f"https://bbs.example.cn/t/{batch}-{i}",
                text="化工厂排污",
                published_at=now,
                crawled_at=now,
                analysis=Analysis(tokens=["化工厂", "排污"]),
            )
            for i in range(25)
        )
    store.close()
    """
)


def test_a_crawl_process_writes_while_another_process_reads(tmp_path: Path) -> None:
    path = tmp_path / "posts.sqlite3"
    reader = SqliteStore(path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=Path(__file__).parents[2])
    seen = []
    while writer.poll() is None:
        seen.append(reader.count())
        reader.search(["化工厂"], limit=5)
    assert writer.returncode == 0
    assert reader.count() == 500
    assert len(reader.search(["化工厂", "排污"], limit=1000)) == 500
    assert seen == sorted(seen)  # each read sees whole batches, never a step back
    reader.close()


def test_the_file_is_in_wal_mode_and_reopens_with_its_posts(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "posts.sqlite3"
    store = SqliteStore(path)
    store.write(
        [
            Post(
                id="local:1",
                source=Source.LOCAL,
                url="https://bbs.example.cn/t/1",
                text="学校食堂",
                published_at=NOW,
                crawled_at=NOW,
                analysis=Analysis(tokens=["学校", "食堂"]),
            )
        ]
    )
    store.close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reopened = SqliteStore(path)
    assert [hit.id for hit in reopened.search(["食堂"])] == ["local:1"]
    reopened.close()


def test_a_file_of_the_first_schema_is_searched_with_filters_and_then_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "posts.sqlite3"
    old = Post(
        id="tieba:1",
        source=Source.TIEBA,
        url="https://tieba.baidu.com/p/1",
        text="化工厂排污",
        published_at=NOW,
        crawled_at=NOW,
        analysis=Analysis(tokens=["化工厂", "排污"]),
    )
    with sqlite3.connect(path) as conn:  # as the first version of the store left it
        conn.execute(
            "CREATE TABLE posts (id TEXT PRIMARY KEY, published_ts REAL NOT NULL, doc TEXT NOT NULL)"
        )
        conn.execute(f'CREATE VIRTUAL TABLE post_tokens USING fts5(tokens, tokenize="{_TOKENIZER}")')
        conn.execute(
            "INSERT INTO posts (id, published_ts, doc) VALUES (?, ?, ?)",
            (old.id, NOW.timestamp(), json.dumps(to_dict(old), ensure_ascii=False)),
        )
        conn.execute("INSERT INTO post_tokens (rowid, tokens) VALUES (1, '化工厂 排污')")
        conn.execute("PRAGMA user_version=1")
    conn.close()

    reader = SqliteStore(path, read_only=True)  # a command that only reads never changes the file
    assert [hit.id for hit in reader.search(["化工厂"], sources=["tieba"])] == ["tieba:1"]
    assert reader.search(["化工厂"], sources=["weibo"]) == []
    reader.close()

    store = SqliteStore(path)
    assert [hit.id for hit in store.search(["化工厂"], sources=["tieba"])] == ["tieba:1"]
    store.write([old, make_other()])
    assert store.count() == 2
    assert [hit.id for hit in store.search(["化工厂"])] == ["tieba:1"]
    assert [hit.id for hit in store.search(["化工厂"], sources=["tieba"], since=NOW)] == ["tieba:1"]
    store.close()


def make_other() -> Post:
    return Post(
        id="weibo:2",
        source=Source.WEIBO,
        url="https://weibo.com/2",
        text="学校食堂",
        published_at=NOW,
        crawled_at=NOW,
        analysis=Analysis(tokens=["学校", "食堂"]),
    )
