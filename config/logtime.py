"""Log lines stamped in Beijing time with the offset shown, whatever zone the machine is set to: a duty
officer compares them with alerts and deadlines, which are all in Beijing time.

`use_beijing_time()` sets the converter of every `logging.Formatter` in the process (the way the logging
documentation gives for all formatters at once), so it also covers the handlers Scrapy builds, and builds
again, in a crawl process; `DATE_FORMAT` writes the offset after the time.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _offset() -> str:
    # China has kept one offset all year since 1991, so the one of today holds for every line.
    offset = datetime.now(SHANGHAI).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


DATE_FORMAT = f"%Y-%m-%d %H:%M:%S{_offset()}"
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def beijing_time(seconds: float | None = None) -> time.struct_time:
    """`time.localtime` as it would be on a machine in Beijing."""
    moment = datetime.fromtimestamp(time.time() if seconds is None else seconds, SHANGHAI)
    offset = moment.utcoffset()
    gmtoff = int(offset.total_seconds()) if offset is not None else 0
    return time.struct_time((*moment.timetuple()[:9], moment.tzname(), gmtoff))


def use_beijing_time() -> None:
    """Every log line of this process, from now on, in Beijing time (with `DATE_FORMAT`)."""
    # A plain function on the class would be bound to each formatter; the converter takes only the time.
    logging.Formatter.converter = staticmethod(beijing_time)  # type: ignore[assignment]
