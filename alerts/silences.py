"""Silences: for a while, alerts about one event, one place or one rule category are held back.

Each silence records who set it, when, why and until when, and who lifted it early. It holds back only
alerts raised while it is in force and no higher than `silences.max_level` of alerts.yaml (重大突发事态
never); a held alert is kept, opens no case and starts no clock. When the silence ends, expired or
lifted, what it held is released: sent then, its deadlines counted from then (see `Dispatcher.plan`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.calendar import SHANGHAI
from alerts.cases import short_id
from alerts.models import Alert
from classifiers.types import Level
from config.errors import YuqingError
from config.models import RulesFile, SilencePolicy, TerritoryFile

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

# What a silence's record says about an alert (the `silence_state` of its row in the outbox).
HELD, RELEASED, SUPERSEDED, OVERRIDDEN = "held", "released", "superseded", "overridden"


class SilenceError(YuqingError):
    """A silence that cannot be set or lifted: the message says why and what would do."""


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    match: str  # an event or post id, a county, a township (or county + township), a rule category
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    def ends_at(self, longest: timedelta | None = None) -> datetime:
        """When it stops holding: its end, its lifting if earlier, and never later than `longest` after
        it was set (a silence stored before lengths were bounded does not hold for ever)."""
        end = min(self.until, self.lifted_at) if self.lifted_at else self.until
        return min(end, self.created_at + longest) if longest is not None else end

    def active(self, now: datetime, longest: timedelta | None = None) -> bool:
        return self.created_at <= now < self.ends_at(longest)

    def matches(self, alert: Alert) -> bool:
        if self.match in (
            alert.event_id,
            alert.post_id,
            *alert.counties,
            *alert.townships,
            *alert.categories,
        ):
            return True
        # A township several counties have is named with its county: 清丰县城关镇.
        return any(self.match == county + town for county in alert.counties for town in alert.townships)

    def label(self) -> str:
        return f"静默 #{self.id}（{self.match}，至 {_local(self.until)}）"

    def state(self, now: datetime, longest: timedelta | None = None) -> str:
        """生效, 已解除 or 已到期, as `silence list` shows it."""
        if self.lifted_at is not None and self.lifted_at <= now:
            return "已解除"
        return "生效" if self.active(now, longest) else "已到期"


@dataclass(frozen=True, slots=True)
class Hold:
    """What the silences in force make of one alert: held back, or sent despite a matching silence."""

    silence: Silence
    held: bool
    note: str


def longest(policy: SilencePolicy) -> timedelta:
    return timedelta(days=policy.max_days)


def released(alert: Alert, silence: Silence | None, policy: SilencePolicy, now: datetime) -> bool:
    """Whether an alert a silence kept back goes out now: its silence has ended (expired, lifted or gone),
    or the alert is above the highest level a silence may hold since the office changed it."""
    too_high = alert.level.rank > policy.max_level.rank
    return silence is None or too_high or not silence.active(now, longest(policy))


def judge(alert: Alert, silences: Iterable[Silence], policy: SilencePolicy, now: datetime) -> Hold | None:
    """The silence that holds this alert back now, or the one it goes out despite (and why); None when no
    silence concerns it. A silence holds only alerts raised while it was in force, so the answer is the
    same whichever process asks first, the sender or the sweep opening cases."""
    if not alert.about_event:
        return None  # source-health alerts and workflow notices are never silenced
    bound = longest(policy)
    matching = [
        s for s in silences if s.matches(alert) and s.active(alert.created_at, bound) and s.active(now, bound)
    ]
    if not matching:
        return None
    silence = matching[0]
    if alert.level.rank > policy.max_level.rank:
        return Hold(silence, False, override_note(silence, alert.level, policy))
    return Hold(
        silence,
        True,
        f"{silence.label()}暂缓：不发送、不立案、不计时；静默结束后补发，时限自补发时起算",
    )


def override_note(silence: Silence, level: Level, policy: SilencePolicy) -> str:
    if level is Level.MAJOR_EMERGENCY:
        return f"静默 #{silence.id} 不适用于{level.value}，照常发送（{silence.match}）"
    return (
        f"静默 #{silence.id} 不适用于{level.value}，照常发送（{silence.match}；"
        f"alerts.yaml 规定静默最多暂缓{policy.max_level.value}）"
    )


def silence_end(text: str, now: datetime, policy: SilencePolicy) -> datetime:
    """The end of a new silence from `4h`, `30m`, `2d` or a time such as `2026-11-24 18:00` (Beijing time
    unless it says otherwise); refused when it is not in the future or beyond the longest a silence may
    last."""
    text = text.strip()
    latest = now + longest(policy)
    end: datetime | None = None
    if match := _DURATION.match(text):
        amount, unit = match.groups()
        try:
            end = now + timedelta(**{_UNITS[unit]: float(amount)})
        except OverflowError:
            end = None  # beyond any calendar: too long, as below
    else:
        try:
            moment = datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise SilenceError(
                f"--until「{text}」看不懂：请写结束时刻，如 2026-11-24 18:00（北京时间），或时长，如 4h、30m、2d"
            ) from None
        end = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    if end is None or end > latest:
        raise SilenceError(
            f"--until「{text}」超过静默最长期限 {policy.max_days} 天（alerts.yaml 的 silences.max_days），"
            f"最晚只能到 {_local(latest)}；到期后如仍需静默，请重新设置并说明原因"
        )
    if end <= now:
        raise SilenceError(f"--until「{text}」不在将来（现在是 {_local(now)}）：静默须在将来某一时刻结束")
    return end


_SHORT_ID = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True, slots=True)
class Targets:
    """What a silence may name: the places of territory.yaml, the categories of rules.yaml and the
    events already alerted (newest first)."""

    townships: dict[str, list[str]]  # county → its townships
    aliases: dict[str, str]  # short name → county
    categories: list[str]
    events: list[str]

    @classmethod
    def of(cls, territory: TerritoryFile | None, rules: RulesFile | None, events: Iterable[str]) -> Targets:
        counties = territory.counties if territory else []
        return cls(
            townships={c.name: list(c.townships) for c in counties},
            aliases={alias: c.name for c in counties for alias in c.aliases},
            categories=list(dict.fromkeys(r.category for r in rules.rules)) if rules else [],
            events=list(dict.fromkeys(events)),
        )

    def resolve(self, text: str) -> str:
        """What a silence stores for `--match`: a county (a short name becomes the full one), a township
        (with its county where several counties have one of that name), a category or an event id."""
        text = text.strip()
        if not text:
            raise SilenceError("--match 不能为空：" + self.accepted())
        if text in self.townships or text in self.categories or text in self.events:
            return text
        # The eight-digit number `yuqing cases` shows stands for the case's event.
        if _SHORT_ID.fullmatch(text.lower()):
            events = [e for e in self.events if short_id(e) == text.lower()]
            if events:
                return events[0]
        if text in self.aliases:
            return self.aliases[text]
        owners = [county for county, towns in self.townships.items() if text in towns]
        if len(owners) == 1:
            return text
        if owners:
            raise SilenceError(
                f"--match「{text}」是{'、'.join(owners)}都有的乡镇名：请连同县（区）写，如「{owners[0]}{text}」"
            )
        names = {**{c: c for c in self.townships}, **self.aliases}
        for name, county in names.items():
            if text.startswith(name) and text[len(name) :] in self.townships[county]:
                return county + text[len(name) :]
        raise SilenceError(f"--match「{text}」不是已知的地名、规则类别或事件。" + self.accepted())

    def accepted(self) -> str:
        places = "；".join(f"{county}：{'、'.join(towns)}" for county, towns in self.townships.items())
        events = "、".join(short_id(e) for e in self.events[:5]) if self.events else "目前没有"
        more = " 等" if len(self.events) > 5 else ""
        seen: dict[str, str] = {}
        example = next(
            (
                f"，如「{county}{town}」"
                for county, towns in self.townships.items()
                for town in towns
                if seen.setdefault(town, county) != county
            ),
            "",
        )
        return (
            f"可以写：县（区）{'、'.join(self.townships) or '（territory.yaml 未能读取）'}；"
            f"乡镇（街道），几个县（区）都有的连同县（区）写{example}——{places or '（territory.yaml 未能读取）'}；"
            f"规则类别 {'、'.join(self.categories) or '（rules.yaml 未能读取）'}；"
            f"已预警事件的编号（yuqing cases 所列的 8 位编号，或完整的事件 id）：{events}{more}"
        )
