"""The one time parser: every form the sites print, read as Beijing time against the moment the page was read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.items import SHANGHAI
from spiders.parsing.times import parse_time

# The moment every page below was read: Monday 2026-11-23 09:00 in Beijing.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        # Relative forms (微博, 贴吧), against NOW.
        ("刚刚", "2026-11-23T09:00:00"),
        ("30秒前", "2026-11-23T08:59:30"),
        ("3分钟前", "2026-11-23T08:57:00"),
        ("3小时前", "2026-11-23T06:00:00"),
        ("2天前", "2026-11-21T09:00:00"),
        ("今天 08:00", "2026-11-23T08:00:00"),
        ("昨天 08:00", "2026-11-22T08:00:00"),
        ("前天 08:00", "2026-11-21T08:00:00"),
        ("昨天", "2026-11-22T00:00:00"),
        ("前天", "2026-11-21T00:00:00"),
        ("08:40", "2026-11-23T08:40:00"),  # 贴吧 lists print today's threads by the time alone
        ("23:10", "2026-11-22T23:10:00"),  # later than now: yesterday's
        # Without a year: this year's, or last year's when that would lie ahead.
        ("11-23", "2026-11-23T00:00:00"),
        ("11-23 08:00", "2026-11-23T08:00:00"),
        ("11月23日 08:00", "2026-11-23T08:00:00"),
        ("11月20日", "2026-11-20T00:00:00"),
        ("12-25", "2025-12-25T00:00:00"),
        ("11-24", "2026-11-24T00:00:00"),  # tomorrow is a clock ahead, not last year
        # Dated forms.
        ("2026-11-23", "2026-11-23T00:00:00"),
        ("2026-11-23 08:00", "2026-11-23T08:00:00"),
        ("2026-11-23 08:00:12", "2026-11-23T08:00:12"),
        ("2026/11/23 08:00:00", "2026-11-23T08:00:00"),
        ("2026.11.23 08:00", "2026-11-23T08:00:00"),
        ("[2026-11-22]", "2026-11-22T00:00:00"),  # list dates in brackets
        ("2026年11月23日", "2026-11-23T00:00:00"),
        ("2026年11月23日 08:00", "2026-11-23T08:00:00"),
        ("2026年11月23日08:00", "2026-11-23T08:00:00"),
        ("2026年1月3日 8:05:09", "2026-01-03T08:05:09"),
        ("2026年11月23日 08时57分", "2026-11-23T08:57:00"),
        ("11/23/2026 08:00:00", "2026-11-23T08:00:00"),  # 网易's lists, month first
        ("2014-03", "2014-03-01T00:00:00"),  # 贴吧 lists print older threads by month
        # Text around a dated form, as bylines print it.
        ("2026年11月22日16:20\xa0\xa0来源：濮阳日报", "2026-11-22T16:20:00"),
        ("2026年11月22日16:20 | 来源：濮阳日报", "2026-11-22T16:20:00"),
        ("发布时间：2026.11.23 08:57 来源：新华社", "2026-11-23T08:57:00"),
        (" 5分钟前 \u200b", "2026-11-23T08:55:00"),
        # Weibo's API, any offset converted.
        ("Mon Nov 23 08:00:00 +0800 2026", "2026-11-23T08:00:00"),
        ("Sun Nov 22 00:30:00 +0000 2026", "2026-11-22T08:30:00"),
        # ISO 8601: an offset is honoured, none means Beijing time.
        ("2026-11-23T08:00:00+08:00", "2026-11-23T08:00:00"),
        ("2026-11-23T00:00:00Z", "2026-11-23T08:00:00"),
        ("2026-11-23T00:00:00+0000", "2026-11-23T08:00:00"),
        ("2026-11-23T08:00:00", "2026-11-23T08:00:00"),
        ("2026-11-23T08:00:00.250+08:00", "2026-11-23T08:00:00"),
        # Unix times: seconds (新浪, 人民网留言板, 贴吧, 搜狗), milliseconds (搜狐, 人民网 search).
        (1795394467, "2026-11-23T08:41:07"),
        ("1795394467", "2026-11-23T08:41:07"),
        (" 1795394467 ", "2026-11-23T08:41:07"),
        (1795394467000, "2026-11-23T08:41:07"),
        ("1795394467000", "2026-11-23T08:41:07"),
        # Unreadable: None, never an exception.
        ("上周", None),
        ("soon", None),
        ("1楼", None),
        ("23.11.2026", None),  # day first: not a form these sites print, so not guessed at
        ("0393-8911234", None),  # a number in a text is no date
        ("02-30", None),
        ("2026年13月40日 08:57", None),
        ("25:61", None),
        ("Mon Foo 23 08:52:10 +0800 2026", None),
        ("2026", None),  # a year, not a Unix time
        (0, None),
        (-5, None),
        (10**30, None),
        (True, None),
        ("", None),
        (None, None),
    ],
)
def test_every_printed_form(printed, expected):
    parsed = parse_time(printed, NOW)
    if expected is None:
        assert parsed is None
    else:
        assert parsed == datetime.fromisoformat(expected).replace(tzinfo=SHANGHAI)
        assert parsed.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "printed", ["刚刚", "3分钟前", "昨天 08:00", "11-23", "11-23 08:00", "11月23日 08:00", "08:40"]
)
def test_without_the_moment_of_reading_only_dated_forms_are_read(printed):
    # Article bylines and `yuqing extract` have no moment to resolve "昨天" against.
    assert parse_time(printed) is None
    assert parse_time("2026年11月23日 08:00") == datetime(2026, 11, 23, 8, tzinfo=SHANGHAI)


def test_a_year_is_taken_from_the_moment_of_reading():
    new_year = datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI)
    assert parse_time("12-31", new_year) == datetime(2026, 12, 31, tzinfo=SHANGHAI)
    assert parse_time("01-01 08:00", new_year) == datetime(2027, 1, 1, 8, tzinfo=SHANGHAI)
    # A moment given in another zone is read in Beijing time: 2026-11-22 17:00 UTC is 11-23 01:00 there.
    assert parse_time("今天 00:30", datetime(2026, 11, 22, 17, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 0, 30, tzinfo=SHANGHAI
    )


@pytest.mark.parametrize(
    ("printed", "formats", "expected"),
    [
        ("2026-11-23", ["%Y-%m-%d"], "2026-11-23T00:00:00"),
        ("[2026-11-22]", ["%Y-%m-%d"], "2026-11-22T00:00:00"),
        ("2026年11月21日 17:45", ["%Y年%m月%d日 %H:%M"], "2026-11-21T17:45:00"),
        ("23.11.2026", ["%d.%m.%Y"], "2026-11-23T00:00:00"),  # a site's own order, once configured
        ("11-20", ["%m-%d"], "2026-11-20T00:00:00"),
        # A list read in November still shows December's entries of the year before.
        ("12-31", ["%m-%d"], "2025-12-31T00:00:00"),
        # No configured format fits: the usual forms are still read.
        ("发布时间：2026-11-22 10:30", ["%Y-%m-%d"], "2026-11-22T10:30:00"),
        ("昨天 10:30", ["%Y-%m-%d"], "2026-11-22T10:30:00"),
        ("上周", ["%Y-%m-%d"], None),
    ],
)
def test_configured_formats_first_then_the_usual_forms(printed, formats, expected):
    parsed = parse_time(printed, NOW, formats)
    assert parsed == (datetime.fromisoformat(expected).replace(tzinfo=SHANGHAI) if expected else None)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("08:40", "2026-11-23T08:40:00"),
        ("23:10", "2026-11-22T23:10:00"),
        ("11-22", "2026-11-22T23:59:00"),
        ("12-30", "2025-12-30T23:59:00"),
        ("2014-03", "2014-03-31T23:59:00"),
        ("2025-12", "2025-12-31T23:59:00"),
        ("2026-11-21", "2026-11-21T23:59:00"),
        ("2026-11-21 10:25", "2026-11-21T10:25:00"),
        ("\n            11-22        ", "2026-11-22T23:59:00"),
        ("13-40", None),
        ("", None),
    ],
)
def test_latest_gives_the_last_minute_a_coarse_time_can_mean(printed, expected):
    parsed = parse_time(printed, NOW, latest=True)
    assert parsed == (datetime.fromisoformat(expected).replace(tzinfo=SHANGHAI) if expected else None)


def test_times_are_compared_as_instants():
    assert parse_time("2026-11-23T08:00:00+08:00") == datetime(2026, 11, 23, 0, tzinfo=UTC)
