"""The stages through their Scrapy adapters: a bad item is dropped with a reason and counted, others go on."""

import unicodedata
from datetime import datetime

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from classifiers.text import clean_text
from pipeline.items import Counts, Post, Source
from pipeline.stages.clean import CleanPipeline, normalise
from pipeline.stages.dedupe import DedupePipeline

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def make_post(**overrides) -> Post:
    fields = {
        "id": "sina:abc",
        "source": Source.SINA,
        "url": "https://news.sina.com.cn/c/2026-11-23/doc-abc.shtml",
        "title": "濮阳县一化工厂被指偷排",
        "text": "村民反映\r\n\r\n  工厂夜间偷排。\n今晚香港开什么码",
        "published_at": NOW,
        "crawled_at": NOW,
    }
    fields.update(overrides)
    return Post(**fields)


@pytest.fixture
def crawler():
    return get_crawler()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"published_at": datetime(2026, 11, 23, 9)}, "published_at"),
        ({"url": "javascript:void(0)"}, "url"),
        ({"text": "", "title": None}, "text"),
        ({"text": " \n\u3000", "title": "\t"}, "text"),
        ({"url": "   "}, "url"),
        ({"source": "myspace"}, "source"),
        ({"counts": Counts(comments=-3)}, "counts.comments"),
        ({"id": ""}, "id"),
    ],
)
def test_invalid_posts_are_dropped_naming_the_field_and_counted(crawler, overrides, field) -> None:
    pipeline = CleanPipeline.from_crawler(crawler)
    with pytest.raises(DropItem) as dropped:
        pipeline.process_item(make_post(**overrides))
    message = str(dropped.value)
    assert f"field {field}" in message
    # The message names the post's source: the one it gave, even when that source is what is wrong.
    assert str(overrides.get("source", "sina")) in message
    assert crawler.stats.get_value("yuqing/clean/invalid") == 1
    # the next, valid post goes through the same pipeline untouched by the failure
    assert pipeline.process_item(make_post()).id == "sina:abc"


def test_a_post_with_blank_text_but_a_title_is_kept(crawler) -> None:
    post = CleanPipeline.from_crawler(crawler).process_item(make_post(text="\u3000 \n", title="偷排"))
    assert (post.title, post.text) == ("偷排", "")


def test_clean_normalises_text_and_strips_injected_spam(crawler) -> None:
    post = CleanPipeline.from_crawler(crawler).process_item(make_post())
    assert post.text == "村民反映\n工厂夜间偷排。"
    assert post.analysis.spam_reasons == ["已剔除插入的赌博/彩票信息「开什么码」"]
    assert normalise("Ａ　Ｂ\xa0c") == "A B c"


def test_normalise_is_nfkc_whatever_follows_the_full_width_punctuation() -> None:
    # The typed full-width marks are swapped before NFKC runs: beside combining marks, Hangul jamo,
    # compatibility forms and one another, the text must still come out exactly as NFKC makes it.
    neighbours = ["", "\u0301", "\u0338", "\u1100\u1161", "\uff21", "ｶﾞ", "℃", "ﬁ", "\u3000", "é"]
    for mark in "，？！：；（）":
        for before in neighbours:
            for after in neighbours:
                text = f"村民{before}{mark}{after}反映{mark}{mark}"
                assert normalise(text) == clean_text(unicodedata.normalize("NFKC", text), lines=True)


def test_dedupe_drops_a_repeat_within_a_run(crawler) -> None:
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.process_item(make_post())
    with pytest.raises(DropItem):
        pipeline.process_item(make_post())
    assert pipeline.process_item(make_post(id="netease:xyz", source=Source.NETEASE)).id == "netease:xyz"
    assert crawler.stats.get_value("yuqing/dedupe/duplicate") == 1


def test_a_post_is_assessed_as_its_signals_are() -> None:
    from classifiers.severity import assess
    from classifiers.types import RuleHit
    from config.env import Env
    from config.loader import load_config
    from pipeline.context import Context
    from pipeline.items import AuthorKind
    from pipeline.stages.classify import post_severity, post_signals

    context = Context(office=load_config(), env=Env(ES_URL=None), now=lambda: NOW)
    hit = RuleHit("emergency-deaths", "死亡事故", "突发事件", 10.0, ("死亡",))
    for post in (
        make_post(),
        make_post(
            published_at=datetime.fromisoformat("2026-11-23T07:00:00+08:00"), counts=Counts(comments=90)
        ),
        make_post(media="新华社", author_kind=AuthorKind.GOVERNMENT),
    ):
        post.analysis.rules, post.analysis.sentiment = [hit], 0.2
        assert post_severity(post, context) == assess(post_signals(post, context), context.severity_model)
