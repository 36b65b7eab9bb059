"""Tokenise: words (for the classifiers) and index tokens (for search) from title and text."""

from __future__ import annotations

from typing import Self

from pipeline.context import Context
from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline


class TokeniseStage(Stage):
    name = "tokenise"

    def __init__(self, context: Context, *, index: bool = True) -> None:
        super().__init__(context)
        self.index = index

    @classmethod
    def for_analysis(cls, context: Context) -> Self:
        """`analyze` and `route` index nothing, so the search tokens (as long again as the words) are
        not made."""
        return cls(context, index=False)

    def __call__(self, post: Post) -> Post:
        tokeniser = self.context.tokeniser
        # Without a title, as most lines of `analyze` come, the text alone: the line break before it would
        # be a token of its own, dropped; the copy of the text and that token cost 0.15 µs a Weibo-length post.
        words = tokeniser.words(f"{post.title}\n{post.text}" if post.title else post.text)
        post.analysis.words = words
        if self.index:
            post.analysis.tokens = tokeniser.index_tokens(words)
        return post


class TokenisePipeline(StagePipeline):
    stage_class = TokeniseStage
