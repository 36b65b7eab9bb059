"""Texts the benchmarks read, all from inside the repository.

Weibo-length posts: the posts and comments of the recorded 微博 answers (tests/fixtures/weibo) and the
hand-written posts of tests/data (sentiment and analysis sets). Long articles: a government notice of
tests/data and the recorded portal articles (tests/fixtures/*/article_*.html) joined per portal.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def mirror_object(mirrors: Path, repo: str, spec: str) -> bytes:
    """A file of a public repository as its clone under `mirrors` holds it (`<owner>+<name>` or
    `<owner>+<name>/repo`, bare or not): `spec` is `commit:path` or a blob id."""
    name = repo.replace("/", "+")
    clone = next(c for c in (mirrors / name / "repo", mirrors / name) if c.exists())
    return subprocess.run(
        ["git", "-C", str(clone), "cat-file", "-p", spec], capture_output=True, check=True
    ).stdout


def _weibo_html(data: Any) -> Iterator[str]:
    """Every post and comment text of a recorded m.weibo.cn answer (HTML, as the API sends it)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("text", "longTextContent") and isinstance(value, str):
                yield value
            else:
                yield from _weibo_html(value)
    elif isinstance(data, list):
        for value in data:
            yield from _weibo_html(value)


def weibo_posts() -> list[str]:
    """Distinct short posts (a few dozen to a few hundred characters), in a fixed order."""
    from spiders.base.weibo import weibo_text

    texts: set[str] = set()
    for path in sorted((FIXTURES / "weibo").rglob("*.json")):
        if path.name == "index.json":
            continue
        try:
            data = json.loads(path.read_bytes())
        except ValueError:
            continue  # the recorded refusals (HTML login pages) are no posts
        texts.update(weibo_text(html) for html in _weibo_html(data))
    for path in sorted((ROOT / "tests" / "data").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(json.loads(line)["text"])
    return sorted(t for t in texts if len(t) >= 5)


def long_articles() -> list[tuple[str | None, str]]:
    """(title, text) of long documents, in a fixed order: the 濮阳 government notice of tests/data/spam
    (8,600 characters, as the site served it), and for each portal its recorded articles (a few hundred
    characters each, too short on their own) joined into one text, as a long report reads."""
    from spiders.parsing.extract import ExtractError, extract

    notice = ROOT / "tests" / "data" / "spam" / "puyang_zhengban_2018_63.txt"
    out: list[tuple[str | None, str]] = [(None, notice.read_text(encoding="utf-8"))]
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        texts = []
        for path in sorted(folder.glob("*article*.html")):
            try:
                page = extract(path.read_bytes())
            except ExtractError:
                continue
            texts.append(f"{page.title or ''}\n{page.text}")
        texts = list(dict.fromkeys(texts))  # a page recorded again at the second patrol, unchanged
        if sum(map(len, texts)) >= 500:
            out.append((None, "\n".join(texts)))
    return out
