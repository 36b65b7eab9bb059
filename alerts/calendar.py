"""Workdays, holidays and the claim-patrol cadence under the official Chinese calendar, 调休 included.

A date the `chinesecalendar` data does not cover is patrolled at the union of the workday and holiday
cadences and logged once per year: a missing year means more patrols, never fewer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

from config.models import ScheduleFile

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WARN_BEFORE_END = timedelta(days=60)


class DayKind(StrEnum):
    WORKDAY = "工作日"
    OFFDAY = "节假日"
    UNKNOWN = "日历未覆盖"


_warned_years: set[int] = set()


def day_kind(day: date) -> DayKind:
    """工作日 (make-up 调休 weekends included), 节假日 (weekends and official holidays), or unknown."""
    try:
        return DayKind.WORKDAY if chinese_calendar.is_workday(day) else DayKind.OFFDAY
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "节假日数据：没有 %d 年的官方节假日安排（chinesecalendar 只到 %s）；升级该软件包之前，"
                "巡查按工作日和节假日两种频次都进行",
                day.year,
                calendar_data_ends(),
            )
        return DayKind.UNKNOWN


def is_workday(day: date) -> bool:
    """The official answer; for a year without data, Monday to Friday. The patrol cadence does not rely
    on that guess (see `Cadence.patrol_times`)."""
    kind = day_kind(day)
    if kind is DayKind.UNKNOWN:
        return day.weekday() < 5
    return kind is DayKind.WORKDAY


def calendar_data_ends() -> date:
    """The last day the installed holiday data covers."""
    return date(max(d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)), 12, 31)


def calendar_warning(today: date) -> str | None:
    """What `yuqing doctor` says about the holiday data, or None while it covers the next 60 days."""
    ends = calendar_data_ends()
    if today > ends:
        return (
            f"节假日数据只到 {ends:%Y-%m-%d}，已过期：巡查按工作日和节假日两种频次的并集进行（只多不少）；"
            "请升级 chinesecalendar（pip install -U chinesecalendar）"
        )
    if ends - today <= WARN_BEFORE_END:
        return (
            f"节假日数据只到 {ends:%Y-%m-%d}（还有 {(ends - today).days} 天）：国务院公布下一年节假日安排后"
            "（通常在 11 月）请升级 chinesecalendar（pip install -U chinesecalendar）"
        )
    return None


def _offset(clock: str) -> timedelta:
    hours, minutes = clock.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


@dataclass(frozen=True, slots=True)
class Cadence:
    """When claim patrols happen (seed 000 附件2 第六条): every `work_interval` in working hours on
    workdays, every `off_interval` in the evening until `night_until` and all day on holidays.

    Offsets are from local midnight, so "24:00" is simply 24 hours. Nothing is patrolled between
    `night_until` and the start of work: the seed sets night duty until 24:00, so the next patrol after
    midnight is the first of the morning.
    """

    work_start: timedelta
    work_end: timedelta
    night_until: timedelta
    work_interval: timedelta
    off_interval: timedelta
    checkpoints: tuple[timedelta, ...]
    claim_min: timedelta

    @classmethod
    def from_schedule(cls, schedule: ScheduleFile) -> Cadence:
        start, end = schedule.work_hours
        return cls(
            work_start=_offset(start),
            work_end=_offset(end),
            night_until=_offset(schedule.night_until),
            work_interval=timedelta(minutes=schedule.work_interval_minutes),
            off_interval=timedelta(minutes=schedule.off_hours_interval_minutes),
            checkpoints=tuple(sorted(_offset(t) for t in schedule.checkpoints.values())),
            claim_min=timedelta(minutes=schedule.claim_min_minutes),
        )

    def _workday(self) -> list[timedelta]:
        return [
            *_steps(self.work_start, self.work_end, self.work_interval),
            *_steps(self.work_end, self.night_until, self.off_interval),
        ]

    def _offday(self) -> list[timedelta]:
        return _steps(self.work_start, self.night_until, self.off_interval)

    def patrol_times(self, day: date) -> list[datetime]:
        """The claim patrols of one day, in Asia/Shanghai."""
        kind = day_kind(day)
        if kind is DayKind.WORKDAY:
            offsets = self._workday()
        elif kind is DayKind.OFFDAY:
            offsets = self._offday()
        else:
            offsets = sorted(set(self._workday()) | set(self._offday()))
        return [_at(day, offset) for offset in offsets]

    def patrol_slots(self, day: date) -> list[datetime]:
        """Every patrol of the day: the claim patrols and the three checkpoints."""
        slots = set(self.patrol_times(day)) | {_at(day, offset) for offset in self.checkpoints}
        return sorted(slots)

    def checkpoint_times(self, day: date) -> list[datetime]:
        return [_at(day, offset) for offset in self.checkpoints]

    def next_claim_patrol(self, after: datetime) -> datetime:
        """The first claim patrol strictly after `after`."""
        local = after.astimezone(SHANGHAI)
        day = local.date()
        for _ in range(400):  # a year with no patrol at all is a config error, caught by the model
            for moment in self.patrol_times(day):
                if moment > local:
                    return moment
            day += timedelta(days=1)
        raise ValueError("the schedule has no claim patrol within a year")

    def claim_deadline(self, notified_at: datetime) -> datetime:
        """The next claim patrol at least `claim_min` after notification: a unit told a minute before a
        patrol is given until the one after."""
        earliest = notified_at + self.claim_min - timedelta(microseconds=1)
        return self.next_claim_patrol(max(notified_at, earliest))

    def last_slot(self, now: datetime) -> datetime | None:
        """The latest patrol slot (claim patrol or checkpoint) at or before `now`, looking back a week."""
        local = now.astimezone(SHANGHAI)
        day = local.date()
        for _ in range(8):
            earlier = [slot for slot in self.patrol_slots(day) if slot <= local]
            if earlier:
                return earlier[-1]
            day -= timedelta(days=1)
        return None

    def in_working_hours(self, moment: datetime) -> bool:
        """Within working hours of an official workday (a make-up 调休 Saturday counts)."""
        local = moment.astimezone(SHANGHAI)
        since_midnight = local - datetime.combine(local.date(), time(), SHANGHAI)
        return is_workday(local.date()) and self.work_start <= since_midnight < self.work_end


def in_working_hours(moment: datetime, cadence: Cadence) -> bool:
    return cadence.in_working_hours(moment)


def _steps(start: timedelta, end: timedelta, step: timedelta) -> list[timedelta]:
    out = []
    t = start
    while t < end:
        out.append(t)
        t += step
    return out


def _at(day: date, offset: timedelta) -> datetime:
    # Asia/Shanghai has no daylight saving, so midnight plus an offset is the wall-clock time.
    return datetime.combine(day, time(), SHANGHAI) + offset
