"""Classify: keyword rules, sentiment, spam and severity, each with its reasons."""

from __future__ import annotations

from classifiers import spam
from classifiers.severity import Signals, assess
from pipeline.context import Context
from pipeline.items import AuthorKind, Post
from pipeline.stages.base import Stage, StagePipeline


def post_signals(post: Post, context: Context) -> Signals:
    """What severity reads of one post; the event stage widens it to the whole event."""
    analysis = post.analysis
    # A post stamped with its crawl time has no known age, so no rate can be read from it (and the clock,
    # read only for that rate, is not asked).
    published_at = post.published_at if post.published_at < post.crawled_at else None
    return Signals(
        rules=analysis.rules,
        rule_floors=context.rule_floors,
        sentiment=analysis.sentiment if analysis.sentiment is not None else 0.5,
        comments=post.counts.comments,
        reposts=post.counts.reposts,
        likes=post.counts.likes,
        media=[post.media] if post.media else [],
        official_author=post.author_kind in (AuthorKind.OFFICIAL_MEDIA, AuthorKind.GOVERNMENT),
        published_at=published_at,
        now=context.now() if published_at is not None else None,
    )


class ClassifyStage(Stage):
    name = "classify"

    def __call__(self, post: Post) -> Post:
        ctx = self.context
        analysis = post.analysis
        analysis.rules = ctx.rules.match(
            {
                "title": post.title,
                "text": post.text,
                "author": post.author,
                "source": post.source,
                "media": post.media,
            }
        )
        sentiment = ctx.sentiment.judge(f"{post.title or ''}\n{post.text}", analysis.words)
        analysis.sentiment = round(sentiment.score, 4)
        analysis.polarity = sentiment.polarity
        analysis.sentiment_reasons = list(sentiment.reasons)
        verdict = spam.detect(post.title, post.text)
        analysis.spam = verdict.is_spam
        analysis.spam_reasons.extend(verdict.reasons)
        analysis.severity = assess(post_signals(post, self.context), ctx.severity_model)
        return post


class ClassifyPipeline(StagePipeline):
    stage_class = ClassifyStage
