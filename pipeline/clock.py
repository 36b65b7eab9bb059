"""The one clock the crawl and alert code reads, so tests and the demo can set the time.

`YUQING_NOW` (ISO 8601, e.g. 2026-11-23T09:00:00+08:00) is how a person freezes it; a patrol's crawl
process is told its patrol's moment instead (`set_patrol_time`). Otherwise it is the wall clock in
Asia/Shanghai.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from config.errors import YuqingError
from pipeline.items import SHANGHAI

VARIABLE = "YUQING_NOW"

_told: datetime | None = None
_offset: timedelta | None = None


class ClockError(YuqingError):
    """`YUQING_NOW` holds something that is not a time."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"环境变量 {VARIABLE} 的值 {value!r} 不是时间；应为 ISO 8601 格式，"
            "如 2026-11-23T09:00:00+08:00（不写时区按北京时间），或不设置以使用当前时间"
        )
        self.value = value


def frozen() -> datetime | None:
    """The time `YUQING_NOW` sets, None when it is not set; `ClockError` when it is not a time."""
    value = os.environ.get(VARIABLE)
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise ClockError(value) from None


def parse(value: str) -> datetime:
    """An ISO 8601 time; one without a zone is Beijing time."""
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def set_patrol_time(moment: datetime | None, *, running: bool = False) -> None:
    """This process's clock at the moment its patrol decided (None: the wall clock): frozen there, or, when
    `running`, starting there and running at the wall clock's pace (real seconds from a recorded moment,
    for measuring delays). Wins over `YUQING_NOW`: a crawl process runs at its patrol's time, whatever its
    environment says."""
    global _told, _offset
    _told, _offset = None, None
    if moment is not None and running:
        _offset = moment - datetime.now(SHANGHAI)
    else:
        _told = moment


def set_clock_offset(seconds: float | None) -> None:
    """A running clock this far from the wall clock (what `offset()` of another process said)."""
    global _told, _offset
    _told, _offset = None, None if seconds is None else timedelta(seconds=seconds)


def offset() -> float | None:
    """How far this process's running clock is from the wall clock, None when it is not shifted."""
    return None if _offset is None else _offset.total_seconds()


def fixed() -> datetime | None:
    """The moment this process's clock is frozen at, None when it runs."""
    if _offset is not None:
        return None
    return _told or frozen()


def now() -> datetime:
    moment = fixed()
    if moment is not None:
        return moment
    return datetime.now(SHANGHAI) + (_offset or timedelta())
