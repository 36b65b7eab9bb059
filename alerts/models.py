"""The alert record: what duty staff and the responsible units are told about one post or event, what
kind of alert it is, and the one function that builds the key of an event's alert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from alerts.cases import response_deadlines
from classifiers.types import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")


class AlertKind(StrEnum):
    """What an alert is about; stored in its own column, so nothing reads it back out of the key."""

    # A post or event that concerns the territory: the pipeline's alert (and its growth re-alerts).
    EVENT = "post"
    # A source that stopped delivering (pipeline.health).
    HEALTH = "health"
    # A config file that cannot be used (commands.config_watch).
    CONFIG = "config"
    # A reminder, escalation or reopening about a case (alerts.workflow).
    WORKFLOW = "workflow"
    # A checkpoint's patrol left without its sign-off (alerts.signoffs).
    PATROL = "patrol"
    # A record filed to a unit (the day's 舆情日志), its document attached where the channel can carry it.
    RECORD = "record"


def alert_key(event_id: str, level: Level, realert: int = 0) -> str:
    """The idempotency key of an event's alert: one per event and level (`<event>@<level>`), and for the
    n-th alert at that level raised because the event kept growing, `<event>@<level>#n`. Keys are only
    built, never taken apart: the alert's kind, level and number are columns of their own."""
    key = f"{event_id}@{level.value}"
    return f"{key}#{realert}" if realert else key


@dataclass(slots=True)
class Alert:
    key: str  # idempotency key: one alert per event and level (`alert_key`), or the notice's own
    post_id: str
    event_id: str
    level: Level
    title: str
    url: str
    source: str
    summary: str
    created_at: datetime
    reasons: list[str] = field(default_factory=list)
    first: list[str] = field(default_factory=list)
    coordinate: list[str] = field(default_factory=list)
    claim: list[str] = field(default_factory=list)
    inform: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    # Health and config alerts are told to duty staff with the reason and what to do in `reasons`.
    kind: AlertKind = AlertKind.EVENT
    categories: list[str] = field(default_factory=list)  # keyword-rule categories matched (silences)
    reach: int = 0  # comments + reposts + likes when raised; growth re-alerts compare it
    townships: list[str] = field(default_factory=list)  # named in the post (silences may name one)
    # For an event's alert: 0 for the first at its level, n for the n-th told because the event grew.
    realert: int = 0
    # A record's document (a path), which email attaches; other channels say where it is.
    attachment: str = ""

    def __post_init__(self) -> None:
        # Read back from JSON the kind is its stored text; the enum is what the code compares.
        self.kind = AlertKind(self.kind)

    @property
    def about_event(self) -> bool:
        """Raised by the pipeline about an event (first or re-alert), as opposed to a source-health or
        config alert or a workflow notice, which noise control, digests and silences leave alone."""
        return self.kind is AlertKind.EVENT

    def recipients(self) -> list[str]:
        """Everyone told: the units that must act, then those informed (duty staff always)."""
        return list(dict.fromkeys([*self.first, *self.claim, *self.coordinate, *self.inform]))

    def subject(self) -> str:
        if self.kind is AlertKind.HEALTH:
            return f"【信息源异常】{self.title}"
        if self.kind is AlertKind.CONFIG:
            return f"【配置错误】{self.title}"
        if self.kind is AlertKind.PATROL:
            return f"【巡查签收】{self.title}"
        if self.kind is AlertKind.RECORD:
            return f"【舆情日志】{self.title}"
        return f"【{self.level.value}】{self.title}"

    def render(self) -> str:
        if self.kind is AlertKind.HEALTH:
            return "\n".join([self.subject(), f"来源：{self.source}", *self.reasons])
        if self.kind in (AlertKind.CONFIG, AlertKind.PATROL, AlertKind.RECORD):
            return "\n".join([self.subject(), *self.reasons])
        lines = [self.subject()]
        if self.counties:
            lines.append(f"属地：{'、'.join(self.counties)}")
        lines.append(f"第一责任主体：{'、'.join(self.first) or '待指定'}")
        if self.claim:
            lines.append(f"认领：{'、'.join(self.claim)}")
        if self.coordinate:
            lines.append(f"组织协调：{'、'.join(self.coordinate)}")
        for kind, due in response_deadlines(self.level, self.created_at).items():
            lines.append(f"{kind.value}时限：{due.astimezone(SHANGHAI):%Y-%m-%d %H:%M}前")
        lines.append(f"摘要：{self.summary}")
        lines.extend(f"依据：{reason}" for reason in self.reasons)
        lines.append(f"来源：{self.source} {self.url}")
        return "\n".join(lines)
