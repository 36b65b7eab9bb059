"""Dedupe: one copy of a post per run. Across runs the store upserts by id, so a re-crawl updates.

Posts with the same cleaned text under different ids (a copied article) are kept but share an event id.
"""

from __future__ import annotations

import hashlib

from pipeline.items import Post
from pipeline.stages.base import Drop, Stage, StagePipeline


def content_key(post: Post) -> str:
    body = f"{post.title or ''}\n{post.text}".encode()
    return hashlib.blake2b(body, digest_size=12).hexdigest()


class DedupeStage(Stage):
    name = "dedupe"
    offline = False  # analysts' lines in `yuqing analyze` are judged one by one, never dropped as repeats

    def __init__(self, context) -> None:
        super().__init__(context)
        self.seen_ids: set[str] = set()
        self.first_by_content: dict[str, str] = {}

    def __call__(self, post: Post) -> Post:
        if post.id in self.seen_ids:
            raise Drop("duplicate", post.id, quiet=True)
        self.seen_ids.add(post.id)
        key = content_key(post)
        post.analysis.event_id = f"event:{self.first_by_content.setdefault(key, post.id)}"
        return post


class DedupePipeline(StagePipeline):
    stage_class = DedupeStage
