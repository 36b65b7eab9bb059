"""Field parsers for what Chinese news pages print (paragraphs, editor credits; times are `times`), and for
reading a site's JSON answer without trusting its shape.

Plain functions on strings, shared by the portal spiders and `spiders.parsing.extract`, so they can be
table-tested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from classifiers.text import clean_text

_EDITOR = re.compile(r"^[\[【(（]?\s*(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<name>[^\]】)）]*?)\s*[\]】)）]?$")


def parse_editor(line: str) -> str | None:
    """The name in an editor credit ("责任编辑：李明" -> "李明"); None for any other line."""
    match = _EDITOR.match(clean_text(line))
    if match is None:
        return None
    return match.group("name").strip() or None


def split_editor(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """The paragraphs without their editor credits, and the first credited editor."""
    kept, editor = [], None
    for text in paragraphs:
        name = parse_editor(text)
        if name is None:
            kept.append(text)
        else:
            editor = editor or name
    return kept, editor


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


def object_at(data: Mapping[Any, Any], key: Any) -> dict[str, Any]:
    """`data[key]` when it is a JSON object, else an empty one: a field a site left out or changed the type of
    reads as missing, never as a crash."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def list_at(data: Mapping[Any, Any], key: Any) -> list[Any]:
    """`data[key]` when it is a JSON array, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, list) else []
