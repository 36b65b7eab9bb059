"""Classify: keyword rules, sentiment, spam and severity, each with its reasons."""

from __future__ import annotations

from datetime import datetime

from classifiers import spam
from classifiers.severity import Signals, assess_values
from classifiers.types import Level, RuleHit, Severity
from pipeline.context import Context
from pipeline.items import AuthorKind, Post
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.steps import Outcomes, each

# Authors whose post is an official one: severity reads their posts as official (媒体介入).
OFFICIAL_AUTHORS = frozenset({AuthorKind.OFFICIAL_MEDIA, AuthorKind.GOVERNMENT})

# What severity reads of one post, in the order of the fields of `Signals`.
_PostValues = tuple[
    list[RuleHit], dict[str, Level], float, int, int, int, list[str], bool, datetime | None, datetime | None
]


def _post_values(post: Post, context: Context) -> _PostValues:
    analysis = post.analysis
    counts = post.counts
    # A post stamped with its crawl time has no known age, so no rate can be read from it (and the clock,
    # read only for that rate, is not asked).
    published_at = post.published_at if post.published_at < post.crawled_at else None
    return (
        analysis.rules,
        context.rule_floors,
        analysis.sentiment if analysis.sentiment is not None else 0.5,
        counts.comments,
        counts.reposts,
        counts.likes,
        [post.media] if post.media else [],
        post.author_kind in OFFICIAL_AUTHORS,
        published_at,
        context.now() if published_at is not None else None,
    )


def post_signals(post: Post, context: Context) -> Signals:
    """What severity reads of one post; the event stage widens it to the whole event."""
    return Signals(*_post_values(post, context))


def post_severity(post: Post, context: Context) -> Severity:
    """`assess(post_signals(post, context), context.severity_model)`, without building the `Signals`."""
    return assess_values(context.severity_model, *_post_values(post, context))


class ClassifyStage(Stage):
    name = "classify"

    def __call__(self, post: Post) -> Post:
        return self._severity(self._spam(self._sentiment(self._rules(post))))

    def run_batch(self, outcomes: Outcomes) -> None:
        # Each step over the whole batch in turn: each reads only its own post (severity the rules and
        # sentiment found before it), and keeps its own tables in the caches meanwhile.
        for step in (self._rules, self._sentiment, self._spam, self._severity):
            each(step, outcomes)

    def _rules(self, post: Post) -> Post:
        post.analysis.rules = self.context.rules.match(
            {
                "title": post.title,
                "text": post.text,
                "author": post.author,
                "source": post.source,
                "media": post.media,
            }
        )
        return post

    def _sentiment(self, post: Post) -> Post:
        analysis = post.analysis
        sentiment = self.context.sentiment.judge(f"{post.title or ''}\n{post.text}", analysis.words)
        analysis.sentiment = round(sentiment.score, 4)
        analysis.polarity = sentiment.polarity
        analysis.sentiment_reasons = list(sentiment.reasons)
        return post

    def _spam(self, post: Post) -> Post:
        verdict = spam.detect(post.title, post.text)
        analysis = post.analysis
        analysis.spam = verdict.is_spam
        analysis.spam_reasons.extend(verdict.reasons)
        return post

    def _severity(self, post: Post) -> Post:
        post.analysis.severity = post_severity(post, self.context)
        return post


class ClassifyPipeline(StagePipeline):
    stage_class = ClassifyStage
