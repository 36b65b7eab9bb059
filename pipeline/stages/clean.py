"""Clean: check the schema, normalise whitespace, cap the text analysed, strip injected spam lines and
repeated bodies."""

from __future__ import annotations

import unicodedata

from classifiers.spam import collapse_repeats, strip_injections
from classifiers.text import clean_text
from pipeline.items import InvalidPost, Post, Truncation, validate_post
from pipeline.stages.base import Drop, Stage, StagePipeline

# The full-width punctuation Chinese is typed with, each beside its compatibility decomposition (，→ ,).
# NFKC decomposes every character before it composes, so a character swapped for its own decomposition
# leaves NFKC's result as it was; and with these gone, most posts are NFKC already, which NFKC sees at a
# glance. Normalising them char by char cost more than the rest of the stage.
_TYPED_FULL_WIDTH = [(char, unicodedata.normalize("NFKD", char)) for char in "，？！：；（）"]


def normalise(text: str) -> str:
    """The text rules and models read: full-width letters, digits and punctuation folded to their usual
    forms (NFKC), then cleaned as a reader sees it, line breaks kept."""
    for full_width, usual in _TYPED_FULL_WIDTH:
        text = text.replace(full_width, usual)
    return clean_text(unicodedata.normalize("NFKC", text), lines=True)


def cap_text(post: Post, text: str, cap: int) -> str:
    """Title and text cut to `cap` characters together (title first), recorded in `analysis.truncated`:
    every later stage costs at least linear time in the text, and a megabyte-long post says no more to an
    office than its first pages do."""
    title = post.title or ""
    total = len(title) + len(text)
    if total <= cap:
        return text
    post.title = title[:cap] or post.title
    text = text[: cap - len(post.title or "")]
    analysed = len(post.title or "") + len(text)
    post.analysis.truncated = Truncation(
        analysed=analysed,
        total=total,
        note=f"全文 {total:,} 字，超过分析上限，只分析并保存了前 {analysed:,} 字（severity.yaml 的 max_text_chars）",
    )
    return text


class CleanStage(Stage):
    name = "clean"

    def __call__(self, post: Post) -> Post:
        try:
            validate_post(post)
        except InvalidPost as exc:
            raise Drop("invalid", f"field {exc.field}: {exc.reason}") from None
        post.title = normalise(post.title) if post.title else post.title
        text = cap_text(post, normalise(post.text), self.context.office.severity.max_text_chars)
        # An injected line is a line of its own: a text of one line, as most posts are, has none to strip,
        # and splitting it into lines to find so cost a tenth of the stage.
        text, removed = strip_injections(text) if "\n" in text else (text, [])
        text, folded = collapse_repeats(text)
        post.text = text
        post.analysis.spam_reasons.extend(removed + folded)
        return post


class CleanPipeline(StagePipeline):
    stage_class = CleanStage
