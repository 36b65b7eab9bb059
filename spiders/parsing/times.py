"""Times as the sites print them, read in one place for every spider and `yuqing extract`.

`parse_time(value, now)` gives an aware Beijing time (Asia/Shanghai), or None for a text it cannot read; it
never raises. Relative forms ("3分钟前", "昨天 08:00") and dates without a year are resolved against `now`,
the moment the page was read; without `now` only texts that name their own date are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from classifiers.text import clean_text
from pipeline.items import SHANGHAI

# How much of the calendar a printed time covers: "11-23" is the whole day, "2014-03" the whole month.
Span = Literal["moment", "day", "month"]

_MINUTE = timedelta(minutes=1)
# A list prints "12-31" in January for last year's post; a day's grace keeps a clock a little ahead (the
# site's, or a date printed at midnight) from moving today's post a year back.
_GRACE = timedelta(days=1)
# Digits below this are a count or a year, not a post's Unix time (2000-01-01 in seconds).
_EARLIEST_UNIX = 946_684_800
# From here on a Unix time is in milliseconds: in seconds it would be the year 5138.
_MILLISECONDS_FROM = 100_000_000_000
_BRACKETS = "[]()（）【】<>《》"

_CLOCK = r"(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?"
_CN_DATE = re.compile(rf"(?P<y>\d{{4}})\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*日(?:\s*{_CLOCK})?")
_NUMERIC_DATE = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)
# 网易's lists write the American order: "11/23/2026 08:00:00".
_US_DATE = re.compile(
    r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
# Weibo's API: "Mon Nov 23 08:00:00 +0800 2026".
_RFC_DATE = re.compile(
    r"(?:[A-Za-z]{3},?\s+)?(?P<mon>[A-Za-z]{3})\s+(?P<d>\d{1,2})\s+(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})"
    r"\s+(?P<tz>[+-]\d{4})\s+(?P<y>\d{4})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
# 贴吧's lists print older threads by month: "2014-03".
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})")
_UNIX = re.compile(r"\d+(?:\.\d+)?")

# The forms below leave out the date or the year, so they must be the whole text: a number inside a
# sentence ("0393-8911234") is never read as one.
_AGO = re.compile(r"(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天)前")
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}
_DAY_WORD = re.compile(rf"(?P<word>今天|昨天|前天)(?:\s*{_CLOCK})?")
_DAY_OFFSETS = {"今天": 0, "昨天": 1, "前天": 2}
_SHORT_DATE = re.compile(rf"(?P<m>\d{{1,2}})\s*[-月]\s*(?P<d>\d{{1,2}})\s*日?(?:\s*{_CLOCK})?")
_BARE_CLOCK = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})")


def parse_time(
    value: object, now: datetime | None = None, formats: Sequence[str] = (), *, latest: bool = False
) -> datetime | None:
    """The time `value` prints, aware in Asia/Shanghai; None when it is not one.

    `value` is a text ("2026年11月23日 08:00", "11-23", "3分钟前", text around a dated form is ignored) or a
    Unix time in seconds or milliseconds (number or digits). `formats` (strptime, as `sources.yaml`
    configures them) are tried first. A written offset is converted; without one the time is Beijing
    time. `latest` gives the last minute a coarse text can mean instead of its first ("11-22" -> 23:59
    that day, "2014-03" -> 03-31 23:59), so nothing a list shows as active is judged too old.
    """
    here = now.astimezone(SHANGHAI) if now is not None else None
    try:
        reading = _read(value, here, formats)
    except (ValueError, OverflowError, OSError):  # a day or hour that does not exist, a year out of range
        return None
    if reading is None:
        return None
    moment, span = reading
    if latest and span == "day":
        return moment + timedelta(days=1) - _MINUTE
    if latest and span == "month":
        return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1) - _MINUTE
    return moment


def _read(value: object, here: datetime | None, formats: Sequence[str]) -> tuple[datetime, Span] | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _unix(value)
    text = clean_text(str(value)).strip(_BRACKETS + " ")
    if not text:
        return None
    if _UNIX.fullmatch(text):
        return _unix(float(text))
    return _configured(text, formats, here) or _dated(text) or (_relative(text, here) if here else None)


def _unix(number: float) -> tuple[datetime, Span] | None:
    seconds = number / 1000 if number >= _MILLISECONDS_FROM else number
    if seconds < _EARLIEST_UNIX:
        return None
    return datetime.fromtimestamp(seconds, SHANGHAI), "moment"


def _configured(text: str, formats: Sequence[str], here: datetime | None) -> tuple[datetime, Span] | None:
    for fmt in formats:
        if "%Y" in fmt or "%y" in fmt:
            written, pattern, year_of = text, fmt, None
        elif here is not None:  # a date without its year is of the year that puts it at or before `here`
            written, pattern, year_of = f"{here.year} {text}", f"%Y {fmt}", here
        else:
            continue
        try:
            moment = datetime.strptime(written, pattern).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
        if year_of is not None:
            moment = _last_year_if_ahead(moment, year_of)
        return moment, "moment" if "%H" in fmt or "%I" in fmt else "day"
    return None


def _dated(text: str) -> tuple[datetime, Span] | None:
    """The forms that name their year; text around them is allowed ("发布时间：… 来源：新华社")."""
    if match := _CN_DATE.search(text) or _NUMERIC_DATE.search(text) or _US_DATE.search(text):
        moment = _at(match, int(match["y"]), int(match["m"]))
        offset = match.groupdict().get("tz")
        if offset:
            offset = "+00:00" if offset == "Z" else offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
            moment = datetime.fromisoformat(f"{moment.replace(tzinfo=None).isoformat()}{offset}")
        return moment.astimezone(SHANGHAI), "day" if match["H"] is None else "moment"
    if match := _RFC_DATE.search(text):
        month = _MONTHS.get(match["mon"].title())
        if month is None:
            return None
        written = datetime.strptime(
            f"{match['y']}-{month:02d}-{match['d']} {match['H']}:{match['M']}:{match['S']} {match['tz']}",
            "%Y-%m-%d %H:%M:%S %z",
        )
        return written.astimezone(SHANGHAI), "moment"
    if match := _YEAR_MONTH.fullmatch(text):
        return datetime(int(match["y"]), int(match["m"]), 1, tzinfo=SHANGHAI), "month"
    return None


def _relative(text: str, here: datetime) -> tuple[datetime, Span] | None:
    """The forms that need the moment the page was read."""
    if text == "刚刚":
        return here, "moment"
    if match := _AGO.fullmatch(text):
        return here - timedelta(**{_AGO_UNITS[match["unit"]]: int(match["n"])}), "moment"
    if match := _DAY_WORD.fullmatch(text):
        day = here - timedelta(days=_DAY_OFFSETS[match["word"]])
        return _at(match, day.year, day.month, day.day), "day" if match["H"] is None else "moment"
    if match := _SHORT_DATE.fullmatch(text):
        moment = _last_year_if_ahead(_at(match, here.year, int(match["m"])), here)
        return moment, "day" if match["H"] is None else "moment"
    if match := _BARE_CLOCK.fullmatch(text):
        # 贴吧 prints today's posts by their time alone; one later than now was yesterday's.
        moment = _at(match, here.year, here.month, here.day)
        return (moment if moment <= here else moment - timedelta(days=1)), "moment"
    return None


def _at(match: re.Match[str], year: int, month: int, day: int | None = None) -> datetime:
    """The Beijing time a match names, its clock read from whichever of H, M, S it has."""
    parts = match.groupdict()
    return datetime(
        year,
        month,
        day if day is not None else int(parts["d"]),
        int(parts.get("H") or 0),
        int(parts.get("M") or 0),
        int(parts.get("S") or 0),
        tzinfo=SHANGHAI,
    )


def _last_year_if_ahead(moment: datetime, here: datetime) -> datetime:
    # Sites leave the year out for this year's posts, so a date ahead of now was written last year.
    return moment.replace(year=moment.year - 1) if moment > here + _GRACE else moment
