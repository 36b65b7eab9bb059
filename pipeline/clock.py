"""The one clock the crawl and alert code reads, so tests and the demo can set the time.

`YUQING_NOW` (ISO 8601, e.g. 2026-11-23T09:00:00+08:00) is how a person freezes it; a patrol's crawl
process is told its patrol's moment instead (`set_patrol_time`). Otherwise it is the wall clock in
Asia/Shanghai.
"""

from __future__ import annotations

import os
from datetime import datetime

from config.errors import YuqingError
from pipeline.items import SHANGHAI

VARIABLE = "YUQING_NOW"

_told: datetime | None = None


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


def set_patrol_time(moment: datetime | None) -> None:
    """This process's clock, frozen at the moment the patrol that started it decided (None: the wall clock).
    Wins over `YUQING_NOW`: the crawl process runs at its patrol's time, whatever its environment says."""
    global _told
    _told = moment


def fixed() -> datetime | None:
    """The moment this process's clock is frozen at, None when it runs with the wall clock."""
    return _told or frozen()


def now() -> datetime:
    return fixed() or datetime.now(SHANGHAI)
