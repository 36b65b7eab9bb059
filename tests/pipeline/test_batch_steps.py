"""`analyze` takes a batch of posts through each stage one step at a time (pipeline/stages/steps.py): every
post must leave with what taking it through the stages alone gives it, and a post that fails in one step
must cost no other post anything."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from classifiers.sentiment import Sentiment
from pipeline.context import Context
from pipeline.items import Post, Source
from pipeline.runner import OfflineRunner
from pipeline.stages.base import Drop
from tests.pipeline.test_event_order import crash_posts

DEVSET = Path(__file__).resolve().parents[1] / "data" / "devset" / "dev.jsonl"
START = datetime.fromisoformat("2026-11-23T08:00:00+08:00")


def devset_posts() -> list[Post]:
    """The development set's posts, a minute apart, with the 范县 crash as its sites reported it (posts that
    join one event) among them."""
    posts = []
    for number, line in enumerate(DEVSET.read_text(encoding="utf-8").splitlines()):
        case = json.loads(line)
        moment = START + timedelta(minutes=number)
        posts.append(
            Post(
                id=f"local:{number}",
                source=Source.LOCAL,
                url=f"https://example.invalid/{number}",
                title=case["title"] or None,
                text=case["text"],
                published_at=moment,
                crawled_at=moment,
            )
        )
    return posts[:150] + crash_posts() + posts[150:]


def one_by_one(context: Context, posts: list[Post]) -> list[Post | Exception]:
    runner = OfflineRunner(context)
    answers: list[Post | Exception] = []
    for post in posts:
        try:
            answers.append(runner.run(post))
        except Exception as exc:  # noqa: BLE001 - the answer compared
            answers.append(exc)
    return answers


def test_a_batch_step_by_step_gives_each_post_what_it_gets_alone() -> None:
    context = Context.load()
    alone = one_by_one(context, devset_posts())
    batch = OfflineRunner(context).run_batch(devset_posts())
    assert all(isinstance(post, Post) for post in batch)
    assert [post.analysis for post in batch] == [post.analysis for post in alone]  # type: ignore[union-attr]
    # Among them, posts that joined others' events and were judged on them.
    joined = [post for post in batch if "归入事件" in post.analysis.severity.reasons[-1]]  # type: ignore[union-attr]
    assert len(joined) >= 3


class _FailsOn:
    """The office's sentiment model, except that it raises on the post that says `marker`."""

    def __init__(self, model: object, marker: str) -> None:
        self.model, self.marker = model, marker

    def judge(self, text: str, words: list[str]) -> Sentiment:
        if self.marker in text:
            raise ValueError("情感模型无法读取这条信息")
        return self.model.judge(text, words)  # type: ignore[attr-defined]


@pytest.mark.parametrize("failing", [0, 7, 200])
def test_a_post_failing_midway_costs_the_others_nothing(failing: int) -> None:
    context = Context.load()
    marker = "此条无法分析"
    context.__dict__["sentiment"] = _FailsOn(context.sentiment, marker)

    def posts() -> list[Post]:
        given = devset_posts()
        given[failing].text += marker
        blank = Post(
            id="local:blank",
            source=Source.LOCAL,
            url="https://example.invalid/b",
            text=" ",
            published_at=START,
            crawled_at=START,
        )
        return [*given[:3], blank, *given[3:]]

    alone = one_by_one(context, posts())
    batch = OfflineRunner(context).run_batch(posts())
    failed = failing + (failing >= 3)
    # The post the sentiment step raised on leaves as its error; the blank one was dropped by the first
    # stage, as alone.
    assert isinstance(batch[failed], ValueError)
    assert str(batch[failed]) == str(alone[failed])
    assert isinstance(batch[3], Drop)
    assert isinstance(alone[3], Drop)
    kept = [i for i in range(len(batch)) if i not in (3, failed)]
    assert all(isinstance(batch[i], Post) for i in kept)
    assert [batch[i].analysis for i in kept] == [alone[i].analysis for i in kept]  # type: ignore[union-attr]
