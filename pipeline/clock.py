"""The one clock the crawl and alert code reads, so tests and the demo can set the time.

`YUQING_NOW` (ISO 8601, e.g. 2026-11-23T09:00:00+08:00) freezes it; otherwise it is the wall clock
in Asia/Shanghai.
"""

from __future__ import annotations

import os
from datetime import datetime

from config.errors import YuqingError
from pipeline.items import SHANGHAI

VARIABLE = "YUQING_NOW"


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
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ClockError(value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def now() -> datetime:
    return frozen() or datetime.now(SHANGHAI)
