"""The one clock the crawl and alert code reads, so tests and the demo can set the time.

`YUQING_NOW` (ISO 8601, e.g. 2026-11-23T09:00:00+08:00) freezes it; otherwise it is the wall clock
in Asia/Shanghai.
"""

from __future__ import annotations

import os
from datetime import datetime

from pipeline.items import SHANGHAI


def now() -> datetime:
    frozen = os.environ.get("YUQING_NOW")
    if frozen:
        moment = datetime.fromisoformat(frozen)
        return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return datetime.now(SHANGHAI)
