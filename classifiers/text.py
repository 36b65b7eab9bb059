"""Text as a reader sees it: one whitespace clean-up for the page parsers and the clean stage.

A pure string function in the lowest layer, so the spiders (reading fields off a page) and the pipeline
(cleaning a whole post before it is judged) apply the same rules.
"""

from __future__ import annotations

import re

# Every space a page may print (full-width indents, nbsp, en/em/thin spaces, tabs) counts as one space.
_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u3000]+")
# Zero-width marks and byte-order marks split words a rule or a reader sees as one.
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# What either of the two changes, with two spaces in a row (a single " " is folded to itself): an invisible
# mark or a space other than " ".
_TO_FOLD = re.compile(r"[\t\u00a0\u2002\u2003\u2009\u3000\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str | None, *, lines: bool = False) -> str:
    """`text` with zero-width marks removed, each run of spaces made one space, every line stripped and
    blank lines dropped; one paragraph (lines joined by a space) unless `lines` keeps the line breaks.
    None is "".
    """
    if not text:
        return ""
    # No space of _SPACES breaks a line, so folding them over the whole text at once folds each line's.
    # Most texts have nothing to fold or remove, which this tells at a third of the two passes' cost (with
    # `| {2}` in the pattern, the search cost as much as they do).
    if _TO_FOLD.search(text) or "  " in text:
        text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    # A loop, compiled, rather than generators: a third of the rest of the cost on a Weibo-length post.
    kept: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            kept.append(line)
    return ("\n" if lines else " ").join(kept)
