"""Posts about one incident from several sources become one event: one alert, and the event's volume and
media add up in its severity."""

from datetime import datetime

from alerts.outbox import Outbox
from config.env import Env
from config.loader import load_config
from pipeline.context import Context
from pipeline.items import SHANGHAI, Counts, Post, Source
from tests.pipeline.stages import Patrol

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
CRAWLED = datetime.fromisoformat("2026-11-23T09:30:00+08:00")


def post(post_id: str, source: Source, media: str, title: str, text: str, comments: int) -> Post:
    return Post(
        id=post_id,
        source=source,
        url=f"https://example.invalid/{post_id}",
        title=title,
        text=text,
        media=media,
        published_at=NOW,
        crawled_at=CRAWLED,
        counts=Counts(comments=comments),
    )


def test_one_incident_from_three_sources_is_one_event_with_one_alert(tmp_path) -> None:
    context = Context(
        office=load_config(), env=Env(YUQING_DATA_DIR=tmp_path, ES_URL=None), now=lambda: CRAWLED
    )
    patrol = Patrol(context)
    reports = [
        post(
            "sina:1",
            Source.SINA,
            "大河报",
            "濮阳县一化工企业被指夜间偷排废水",
            "濮阳县柳屯镇村民反映，一化工企业夜间向河沟偷排废水，河沟泛白沫、气味刺鼻，环保部门已介入。",
            800,
        ),
        post(
            "netease:2",
            Source.NETEASE,
            "河南日报",
            "濮阳县柳屯镇化工企业偷排废水 环保部门介入",
            "濮阳县柳屯镇一化工企业被村民举报夜间偷排废水，河沟白沫刺鼻，环保部门已介入调查。",
            900,
        ),
        post(
            "sina:3",
            Source.SINA,
            "濮阳日报",
            "范县举办农民丰收节",
            "范县今天举办农民丰收节，群众载歌载舞庆丰收。",
            5,
        ),
    ]
    done = [patrol(p) for p in reports]
    patrol.close()
    discharge_a, discharge_b, harvest = (p.analysis for p in done)
    # Published the same minute: the event is named after the smaller id, whichever came first, and the
    # alerts raised under the first name move to it.
    assert discharge_a.event_id == "event:sina:1"
    assert discharge_b.event_id == "event:netease:2"
    assert discharge_b.merged_events == ["event:sina:1"]
    assert harvest.event_id == "event:sina:3"
    assert any(r.startswith("事件合计：2条信息") and "河南日报" in r for r in discharge_b.severity.reasons)
    assert any(r.startswith("归入事件") for r in discharge_b.severity.reasons)
    outbox = Outbox(context.env.outbox_path)
    raised = [a for a in outbox.alerts() if a.about_event]
    outbox.close()
    assert {a.event_id for a in raised} == {"event:netease:2"}
    assert len({a.level for a in raised}) == len(raised)  # at most one alert per event and level


def test_a_remembered_timestamp_is_the_moment_asked_for() -> None:
    """The event stage's timestamps are remembered for the last moment asked: a different moment, even one
    equal to it in another time zone or the same wall time in another, gets its own answer."""
    from datetime import UTC, timedelta, timezone

    from pipeline.events import timestamp

    beijing = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
    same_wall_elsewhere = beijing.replace(tzinfo=timezone(timedelta(hours=-5)))
    same_instant_utc = beijing.astimezone(UTC)
    for moment in (beijing, beijing, same_wall_elsewhere, beijing, same_instant_utc, same_wall_elsewhere):
        assert timestamp(moment) == moment.timestamp()
    assert timestamp(same_wall_elsewhere) - timestamp(beijing) == 13 * 3600
