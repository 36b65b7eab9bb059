"""Clean: check the schema, normalise whitespace, strip injected spam lines and repeated bodies."""

from __future__ import annotations

import re
import unicodedata

from classifiers.spam import collapse_repeats, strip_injections
from pipeline.items import InvalidPost, Post, validate_post
from pipeline.stages.base import Drop, Stage, StagePipeline

_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


class CleanStage(Stage):
    name = "clean"

    def __call__(self, post: Post) -> Post:
        try:
            validate_post(post)
        except InvalidPost as exc:
            raise Drop("invalid", f"field {exc.field}: {exc.reason}") from None
        post.title = clean_text(post.title) if post.title else post.title
        text, removed = strip_injections(clean_text(post.text))
        text, folded = collapse_repeats(text)
        post.text = text
        post.analysis.spam_reasons.extend(removed + folded)
        return post


class CleanPipeline(StagePipeline):
    stage_class = CleanStage
