"""The events a patrol ends with do not depend on the order its crawls delivered the posts: a post that
matches two events joins them into one, and an event is named after its first published post, so every
order of the same posts leaves the same events under the same names (the same cases, the same numbers).

The posts are the 范县 crash as the demo's recorded sites report it: the official Weibo post matches both
the eyewitness's post and the portals' articles, which do not match each other."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from itertools import permutations

import pytest

from classifiers.events import EventMatcher
from config.env import Env
from config.loader import load_config
from pipeline.context import Context
from pipeline.events import EventStore, MemoryEventStore, with_merged
from pipeline.items import AuthorKind, Counts, Post, Source
from pipeline.runner import OfflineRunner
from pipeline.stages.event import EventStage

CRAWLED = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def crash_posts() -> list[Post]:
    def post(post_id: str, source: Source, at: str, text: str, title: str | None = None, **more) -> Post:
        return Post(
            id=post_id,
            source=source,
            url=f"https://example.invalid/{post_id}",
            title=title,
            text=text,
            published_at=datetime.fromisoformat(f"2026-11-23T{at}+08:00"),
            crawled_at=CRAWLED,
            **more,
        )

    return [
        post(
            "sina:nhjebkv6734067",
            Source.SINA,
            "07:58:12",
            "中新网郑州11月23日电 据范县公安局交通管理大队消息,11月23日5时20分许,范县境内省道209线陈庄镇路段"
            "发生一起重型半挂货车与小型面包车相撞的交通事故,造成3人死亡、2人受伤。\n事故发生后,范县县委、县政府"
            "立即启动应急预案,公安、应急、卫健等部门迅速赶赴现场处置。2名伤者已送往医院救治,目前生命体征平稳。\n"
            "目前,事故原因正在进一步调查中,善后工作正在有序开展。(完)",
            "河南范县一货车与面包车相撞 致3死2伤",
            media="中国新闻网",
            counts=Counts(comments=2310),
        ),
        post(
            "weibo:5302176326402233",
            Source.WEIBO,
            "08:20:36",
            "范县濮城镇S209省道上刚刚一辆大货车和面包车相撞了,面包车整个车头都没了,救护车和交警都到了,过路的师傅们"
            "绕行吧 #范县身边事#",
            counts=Counts(reposts=188, comments=532, likes=976),
        ),
        post(
            "weibo:5302172978001716",
            Source.WEIBO,
            "08:35:29",
            "【范县一货车与面包车相撞致3死2伤】11月23日7时50分许,范县濮城镇S209省道发生一起交通事故,一辆重型货车"
            "与一辆小型面包车相撞,造成3人死亡、2人受伤。伤者已送医救治,事故原因正在调查中。",
            author="濮阳日报",
            author_kind=AuthorKind.OFFICIAL_MEDIA,
            media="濮阳日报",
            counts=Counts(reposts=402, comments=88, likes=1250),
        ),
        post(
            "sohu:902118734",
            Source.SOHU,
            "08:52:10",
            "11月22日下午,范县境内一货车与一辆面包车相撞,事故造成3人死亡、2人受伤。伤者已送医救治,暂无生命危险。\n"
            "事故发生后,范县成立由应急管理、公安交警、交通运输等部门组成的调查组,事故原因正在调查中。\n"
            "范县有关部门提醒,冬季雾天路滑,驾驶人要减速慢行、谨慎驾驶。",
            "范县货车与面包车相撞致3死2伤 当地成立事故调查组",
            media="濮阳网",
        ),
        post(
            "tieba:10290205666",
            Source.TIEBA,
            "06:50:00",
            "周末想带孩子去范县郑板桥纪念馆看看，现在还要提前预约吗",
        ),
    ]


def analysed(posts: list[Post]) -> tuple[Context, list[Post]]:
    """The posts through the stages before the event stage, as a patrol's crawl gives them to it."""
    context = Context(office=load_config(), env=Env(ES_URL=None), now=lambda: CRAWLED)
    earlier = [
        s for s in OfflineRunner(context).stages if s.name in ("clean", "tokenise", "classify", "locate")
    ]
    out = []
    for post in posts:
        for step in earlier:
            post = step(post)
        out.append(post)
    return context, out


def final_events(
    context: Context, order: tuple[Post, ...], store: EventStore | MemoryEventStore
) -> dict[str, str]:
    """Each post's event once all of them are in, the posts given to the event stage in this order."""
    stage = EventStage(context, store, EventMatcher())
    for post in order:
        stage(replace(post, analysis=replace(post.analysis)))
    return {post.id: store.event_of(post.id) or "" for post in order}


@pytest.mark.parametrize("kept", ["in memory", "in SQLite"])
def test_every_order_of_the_same_posts_leaves_the_same_events(kept: str) -> None:
    context, posts = analysed(crash_posts())
    seen = set()
    for order in permutations(posts):
        store = MemoryEventStore(EventMatcher()) if kept == "in memory" else EventStore(None)
        seen.add(tuple(sorted(final_events(context, order, store).items())))
    assert seen == {
        (
            ("sina:nhjebkv6734067", "event:sina:nhjebkv6734067"),
            ("sohu:902118734", "event:sina:nhjebkv6734067"),
            ("tieba:10290205666", "event:tieba:10290205666"),
            ("weibo:5302172978001716", "event:sina:nhjebkv6734067"),
            ("weibo:5302176326402233", "event:sina:nhjebkv6734067"),
        )
    }


def test_a_bridging_post_says_so_and_old_names_lead_to_the_event() -> None:
    context, (_sina, eyewitness, official, sohu, _) = analysed(crash_posts())
    store = EventStore(None)
    stage = EventStage(context, store, EventMatcher())
    done = [stage(post) for post in (sohu, eyewitness, official)]
    bridge = done[-1].analysis
    assert bridge.event_id == "event:weibo:5302176326402233"  # the eyewitness's post came first
    assert bridge.merged_events == ["event:sohu:902118734"]
    assert any("同时关联另外1个事件，已合并为同一事件" in r for r in bridge.severity.reasons)
    assert store.current("event:sohu:902118734") == "event:weibo:5302176326402233"
    assert [post_id for post_id, _, _ in store.posts_of("event:weibo:5302176326402233")] == [
        eyewitness.id,
        official.id,
        sohu.id,
    ]


def test_a_search_for_an_event_also_finds_posts_stored_under_the_names_it_absorbed(tmp_path) -> None:
    """Posts are stored under the event id they had then: asking for the merged event asks for those too,
    and asking by an old name finds the whole event."""
    context, (_sina, eyewitness, official, sohu, _) = analysed(crash_posts())
    path = tmp_path / "events.sqlite3"
    store = EventStore(path)
    stage = EventStage(context, store, EventMatcher())
    stored_under = {post.id: stage(post).analysis.event_id for post in (sohu, eyewitness, official)}
    store.close()
    assert stored_under == {
        sohu.id: "event:sohu:902118734",
        eyewitness.id: "event:weibo:5302176326402233",
        official.id: "event:weibo:5302176326402233",
    }
    asked = with_merged(path, ["event:weibo:5302176326402233"])
    assert set(asked) == set(stored_under.values())
    assert set(with_merged(path, ["event:sohu:902118734"])) == set(stored_under.values())
    assert with_merged(tmp_path / "none.sqlite3", ["event:x"]) == ["event:x"]
