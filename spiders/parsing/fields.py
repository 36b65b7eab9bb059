"""Field parsers for what Chinese news pages print: times, paragraphs, editor credits.

Plain functions on strings, shared by the portal spiders and `spiders.parsing.extract`, so they can be table-tested.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipeline.items import SHANGHAI

_CN_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_NUMERIC_DATETIME = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_cn_datetime(text: str | None) -> datetime | None:
    """A time as Chinese pages write it, aware in Asia/Shanghai; None when there is none.

    "2026年11月23日 08:57", "2026年11月23日08:57", "2026-11-23 08:57:12", "2026-11-23T08:57:12+08:00",
    "2026/11/23 08:57"; text around it ("... 来源：新华社") is ignored. A written offset is honoured and
    converted; without one the time is read as Beijing time.
    """
    if not text:
        return None
    match = _CN_DATETIME.search(text) or _NUMERIC_DATETIME.search(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        moment = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
        )
    except ValueError:
        return None
    offset = parts.get("tz")
    if not offset:
        return moment.replace(tzinfo=SHANGHAI)
    if offset == "Z":
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    return datetime.fromisoformat(f"{moment.isoformat()}{offset}").astimezone(SHANGHAI)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str | None) -> str:
    """One paragraph as a reader sees it: full-width indents, nbsp and zero-width marks gone, spaces single."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return " ".join(line for line in lines if line)


_EDITOR = re.compile(r"^[\[【(（]?\s*(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<name>[^\]】)）]*?)\s*[\]】)）]?$")


def parse_editor(line: str) -> str | None:
    """The name in an editor credit ("责任编辑：李明" -> "李明"); None for any other line."""
    match = _EDITOR.match(clean_text(line))
    if match is None:
        return None
    return match.group("name").strip() or None


def dedupe_paragraphs(paragraphs: list[str]) -> tuple[list[str], int]:
    """Drop paragraphs repeated later on the page (some pages print their body twice); returns the count."""
    kept: list[str] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        key = re.sub(r"\s+", "", paragraph)
        if key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept, len(paragraphs) - len(kept)


_EDITOR_ANYWHERE = re.compile(
    r"(?:责任编辑|责编)\s*[:：]\s*(?P<name>[^\s()（）\[\]【】]+(?:[、，,][^\s()（）\[\]【】]+)*)"
)
# 网易 prints its staff code after the name: "雷晓_NB26578".
_STAFF_CODE = re.compile(r"_[A-Z]{1,4}\d+$")


def find_editor(text: str | None) -> str | None:
    """The editor named anywhere in a credit block ("本文来源：… 责任编辑： 雷晓_NB26578" -> "雷晓")."""
    match = _EDITOR_ANYWHERE.search(clean_text(text))
    if match is None:
        return None
    return _STAFF_CODE.sub("", match.group("name")) or None
