"""A batch of posts taken through a stage one step at a time.

`analyze` runs its stages over a batch of posts, stage by stage. A stage whose work falls into steps that
read only the post (the classify stage's rules, sentiment, spam and severity) runs each step over the
whole batch before the next, so that each step's dictionaries and automata stay in the processor's caches
from one post to the next, as each stage's do. A post still gets the same answer: its steps run in the same
order, and no step reads another post's result."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pipeline.items import Post

Outcomes = list[Post | Exception]
T = TypeVar("T")


def each(step: Callable[[Post], Post], outcomes: Outcomes) -> None:
    """`step` on each post of the batch not yet failed, in order and in place: a post the step raises on
    (a `Drop` among them) becomes that exception, and the later steps pass it by."""
    for i, post in enumerate(outcomes):
        if isinstance(post, Post):
            try:
                outcomes[i] = step(post)
            except Exception as exc:  # noqa: BLE001 - one post's fault must not cost the others
                outcomes[i] = exc


def gather(read: Callable[[Post], T], outcomes: Outcomes) -> list[T | None]:
    """`read(post)` of each post of the batch not yet failed, in the batch's order (None for the others): a
    first step whose findings the next step takes with the post (`each_with`). A post it raises on becomes
    the exception. `read` never answers None, which stands here for a post with no finding."""
    found: list[T | None] = []
    for i, post in enumerate(outcomes):
        value = None
        if isinstance(post, Post):
            try:
                value = read(post)
            except Exception as exc:  # noqa: BLE001 - one post's fault must not cost the others
                outcomes[i] = exc
        found.append(value)
    return found


def each_with(step: Callable[[Post, T], Post], outcomes: Outcomes, found: list[T | None]) -> None:
    """`step(post, what gather found of it)` on each post of the batch not yet failed, in order and in
    place, as `each`."""
    for i, post in enumerate(outcomes):
        value = found[i]
        if isinstance(post, Post) and value is not None:
            try:
                outcomes[i] = step(post, value)
            except Exception as exc:  # noqa: BLE001 - one post's fault must not cost the others
                outcomes[i] = exc
