"""Tokenise: jieba words (for the classifiers) and index tokens (for search) from title and text."""

from __future__ import annotations

from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline


class TokeniseStage(Stage):
    name = "tokenise"

    def __call__(self, post: Post) -> Post:
        tokeniser = self.context.tokeniser
        words = tokeniser.words(f"{post.title or ''}\n{post.text}")
        post.analysis.words = words
        post.analysis.tokens = tokeniser.index_tokens(words)
        return post


class TokenisePipeline(StagePipeline):
    stage_class = TokeniseStage
