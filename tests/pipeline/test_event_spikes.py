"""A county or topic suddenly talked about far more than usual: the posts of that hour are judged with the
rise (发展态势), told in words, and an event it touches is judged again. The hourly counts live in the
office's event file beside the signatures, so every crawl of a patrol counts into the same series, each
post once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from config.env import Env
from config.loader import load_config
from pipeline.context import Context
from pipeline.items import Counts, Post, Source
from tests.pipeline.stages import Patrol

START = datetime.fromisoformat("2026-11-16T08:00:00+08:00")
BURST = START + timedelta(days=7, hours=2)

QUIET = [
    "清丰县今天天气晴好，县城公园游人不少。",
    "清丰县图书馆周末举办亲子阅读活动。",
    "清丰县一中篮球赛今天开赛。",
    "清丰县农贸市场蔬菜价格平稳。",
]
OUTAGE = [
    "清丰县城关镇停水三天了，一直没人管，老人孩子没水喝，太气人了",
    "清丰县停水第三天，城关镇居民楼里一滴水都没有",
    "有没有人管管清丰县城关镇停水的事，三天了",
    "清丰县自来水公司电话打不通，城关镇停水三天",
    "城关镇停水，清丰县的老百姓怎么过日子",
    "清丰县城关镇停水三天，学校食堂都停火了",
    "清丰县停水到底什么时候恢复？城关镇急死了",
]


class Office:
    """One office's data folder, its clock, and a patrol's stages over them (several for several crawls)."""

    def __init__(self, folder: Path) -> None:
        self.clock = START
        self.context = Context(
            office=load_config(), env=Env(YUQING_DATA_DIR=folder, ES_URL=None), now=lambda: self.clock
        )
        self.patrols: list[Patrol] = []

    def crawl(self) -> Patrol:
        patrol = Patrol(self.context)
        self.patrols.append(patrol)
        return patrol

    def post(
        self,
        post_id: str,
        text: str,
        at: datetime,
        patrol: Patrol | None = None,
        crawled: datetime | None = None,
    ) -> Post:
        self.clock = crawled or at + timedelta(minutes=2)
        item = Post(
            id=post_id,
            source=Source.WEIBO,
            url=f"https://weibo.com/{post_id.split(':')[1]}",
            text=text,
            published_at=at,
            crawled_at=self.clock,
            counts=Counts(comments=3),
        )
        return (patrol or self.patrols[0])(item)

    def quiet_week(self) -> None:
        """A post about 清丰县 every three hours for a week: its usual level."""
        patrol = self.patrols[0] if self.patrols else self.crawl()
        for number, hours in enumerate(range(0, 7 * 24, 3)):
            self.post(
                f"weibo:q{number}", f"{QUIET[number % 4]}（{number}）", START + timedelta(hours=hours), patrol
            )

    def close(self) -> None:
        for patrol in self.patrols:
            patrol.close()


def rise_reasons(post: Post) -> list[str]:
    assert post.analysis.severity
    return [r for r in post.analysis.severity.reasons if r.startswith("发展态势：突增")]


def test_a_county_suddenly_much_talked_about_raises_its_posts_with_the_reason_in_words(tmp_path) -> None:
    watched, new = Office(tmp_path / "watched"), Office(tmp_path / "new")
    watched.quiet_week()
    new.crawl()
    seen = [
        (
            watched.post(f"weibo:b{i}", text, BURST + timedelta(minutes=5 * i)),
            new.post(f"weibo:b{i}", text, BURST + timedelta(minutes=5 * i)),
        )
        for i, text in enumerate(OUTAGE)
    ]
    # Four posts in an hour are not yet a rise; from the fifth on, each is judged with it.
    assert [bool(rise_reasons(post)) for post, _ in seen] == [False] * 4 + [True] * 3
    assert rise_reasons(seen[4][0]) == [
        "发展态势：突增，县区「清丰县」近1小时5条，过去7天每小时中位数0条，高出平时5.0个标准差"
    ]
    assert "近1小时7条" in rise_reasons(seen[6][0])[0]
    # An office without a week behind it has no usual level to rise from: the same posts, unraised.
    assert not any(rise_reasons(post) for _, post in seen)
    for post, unwatched in seen[4:]:
        assert post.analysis.severity
        assert unwatched.analysis.severity
        assert post.analysis.severity.score > unwatched.analysis.severity.score
        assert post.analysis.severity.level.rank >= unwatched.analysis.severity.level.rank
    # Posts that joined the outage's event carry the rise into the event's judgement as well.
    joined = [post for post, _ in seen[4:] if post.analysis.event_id == seen[0][0].analysis.event_id]
    assert joined
    assert all(rise_reasons(post) for post in joined)
    watched.close()
    new.close()


def test_every_crawl_counts_into_the_same_hour_and_each_post_once(tmp_path) -> None:
    office = Office(tmp_path)
    office.quiet_week()
    other = office.crawl()  # another source's crawl in the same patrol, with stages of its own
    first = office.patrols[0]
    for i, text in enumerate(OUTAGE[:3]):
        office.post(f"weibo:b{i}", text, BURST + timedelta(minutes=i), first)
    # The same three posts crawled again, by the other crawl: not three more.
    for i, text in enumerate(OUTAGE[:3]):
        assert not rise_reasons(office.post(f"weibo:b{i}", text, BURST + timedelta(minutes=i), other))
    assert not rise_reasons(office.post("weibo:b3", OUTAGE[3], BURST + timedelta(minutes=3), other))
    # The fifth distinct post, whichever crawl sees it, makes the rise.
    assert rise_reasons(office.post("weibo:b4", OUTAGE[4], BURST + timedelta(minutes=4), other))
    office.close()


def test_old_posts_found_by_a_new_office_give_it_no_usual_level(tmp_path) -> None:
    # The first crawl of a new office finds posts of last month: they say nothing of how much is usually
    # posted now, so they are not counted, and five posts in the next hour are not yet a rise.
    office = Office(tmp_path)
    office.crawl()
    long_ago = BURST - timedelta(days=30)
    found = [
        office.post(f"weibo:old{i}", text, long_ago + timedelta(hours=i), crawled=BURST - timedelta(days=2))
        for i, text in enumerate(QUIET * 2)
    ]
    assert not any(rise_reasons(post) for post in found)
    burst = [office.post(f"weibo:b{i}", text, BURST + timedelta(minutes=i)) for i, text in enumerate(OUTAGE)]
    assert not any(rise_reasons(post) for post in burst)
    office.close()
