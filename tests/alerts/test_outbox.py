"""The outbox: an alert raised twice is stored once; deliveries are at least once and never repeated."""

import io
from datetime import datetime

import pytest

from alerts.channels.console import ConsoleChannel
from alerts.dispatcher import dispatch
from alerts.models import Alert, alert_key
from alerts.outbox import Outbox
from classifiers.types import Level
from config.models import AlertsFile, ChannelConfig

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def make_alert(level: Level = Level.SENSITIVE) -> Alert:
    return Alert(
        key=alert_key("event:sina:1", level),
        post_id="sina:1",
        event_id="event:sina:1",
        level=level,
        title="濮阳县一化工厂被指偷排废水",
        url="https://news.sina.com.cn/c/doc-1.shtml",
        source="大河报",
        summary="村民反映工厂夜间偷排。",
        created_at=NOW,
        reasons=["问题性质：命中规则「污水直排」"],
        first=["市生态环境局濮阳县分局"],
        claim=["濮阳县委宣传部", "濮阳县政府办"],
        inform=["市网信办值班室"],
        counties=["濮阳县"],
    )


def test_the_same_alert_is_stored_once_and_a_higher_level_is_a_new_alert(tmp_path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    assert outbox.enqueue(make_alert()) is True
    assert outbox.enqueue(make_alert()) is False
    assert outbox.enqueue(make_alert(Level.MAJOR_EMERGENCY)) is True
    assert [a.level for a in outbox.alerts()] == [Level.SENSITIVE, Level.MAJOR_EMERGENCY]


def test_delivery_survives_a_restart_and_is_never_repeated(tmp_path) -> None:
    path = tmp_path / "alerts.sqlite3"
    config = AlertsFile(
        channels=[
            ChannelConfig(name="console", type="console"),
            ChannelConfig(name="duty-screen", type="webhook", options={"url_env": "YUQING_SCREEN_URL"}),
        ],
        recipients={"市生态环境局濮阳县分局": ["duty-screen"]},
    )
    outbox = Outbox(path)
    outbox.enqueue(make_alert())
    # First run: the unit's own channel is down (not available in this process); the console works.
    screen = io.StringIO()
    console = io.StringIO()
    report = dispatch(outbox, config, {"console": ConsoleChannel("console", {}, console)}, lambda: NOW)
    assert (report.sent, report.failed) == (1, 1)
    assert "【复杂敏感事件】濮阳县一化工厂被指偷排废水" in console.getvalue()
    assert "认领：濮阳县委宣传部、濮阳县政府办" in console.getvalue()
    outbox.close()

    # After a restart with both channels, only the failed delivery is made.
    outbox = Outbox(path)
    console2 = io.StringIO()
    channels = {
        "console": ConsoleChannel("console", {}, console2),
        "duty-screen": ConsoleChannel("duty-screen", {}, screen),
    }
    report = dispatch(outbox, config, channels, lambda: NOW)
    assert (report.sent, report.failed) == (1, 0)
    assert console2.getvalue() == ""
    assert "致 市生态环境局濮阳县分局" in screen.getvalue()
    assert dispatch(outbox, config, channels, lambda: NOW).sent == 0
    assert outbox.delivery_counts() == {"sent": 2}


def test_major_emergencies_carry_the_one_hour_and_24_hour_deadlines() -> None:
    text = make_alert(Level.MAJOR_EMERGENCY).render()
    assert "首次发布时限：2026-11-23 10:00前" in text
    assert "新闻发布会时限：2026-11-24 09:00前" in text
    assert "回应时限：2026-11-25 09:00前" in make_alert().render()
