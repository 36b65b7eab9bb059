"""Silences: for a while, alerts about one event, one county or one rule category are not sent.

Each silence records who set it, when, why and until when; an alert it holds back is kept and marked
silenced, never dropped. Expired silences hold nothing back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.models import Alert

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    match: str  # an event id, a county, or a keyword-rule category
    until: datetime
    reason: str
    created_by: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        return self.created_at <= now < self.until

    def matches(self, alert: Alert) -> bool:
        return self.match in (alert.event_id, alert.post_id) or self.match in (
            *alert.counties,
            *alert.categories,
        )


def parse_until(text: str, now: datetime) -> datetime:
    """An end time from `4h`, `30m`, `2d`, or a date and time such as `2026-11-24 18:00` (local)."""
    text = text.strip()
    if match := _DURATION.match(text):
        amount, unit = match.groups()
        return now + timedelta(**{_UNITS[unit]: float(amount)})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--until {text!r}: give a time like 2026-11-24 18:00 or a duration like 4h, 30m, 2d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
