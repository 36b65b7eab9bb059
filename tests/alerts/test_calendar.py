"""The patrol cadence under the official calendar (seed 000 附件2 第六条): hourly in working hours on
workdays, every two hours at night until 24:00 and on holidays, 调休 make-up days included, and more
patrols, never fewer, for a year the holiday data does not cover."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest
from pydantic import ValidationError

from alerts import calendar
from alerts.calendar import Cadence, DayKind, calendar_warning, day_kind, is_workday
from config.errors import ConfigError
from config.loader import DEFAULT_DIR, load_config, load_file
from config.models import ScheduleFile


@pytest.fixture(scope="module")
def cadence() -> Cadence:
    return Cadence.from_schedule(load_config().schedule)


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def hours(times: list[datetime]) -> list[str]:
    return [f"{t:%H:%M}" for t in times]


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        ("2026-11-23", DayKind.WORKDAY),  # an ordinary Monday
        ("2026-11-28", DayKind.OFFDAY),  # an ordinary Saturday
        ("2026-10-01", DayKind.OFFDAY),  # 国庆节, a Thursday
        ("2026-10-10", DayKind.WORKDAY),  # Saturday made a workday (调休) for 国庆
        ("2026-02-14", DayKind.WORKDAY),  # Saturday made a workday for 春节
        ("2026-09-26", DayKind.OFFDAY),  # Saturday of 中秋
    ],
)
def test_days_follow_the_official_calendar(day: str, kind: DayKind) -> None:
    assert day_kind(date.fromisoformat(day)) is kind
    assert is_workday(date.fromisoformat(day)) is (kind is DayKind.WORKDAY)


def test_a_working_day_is_patrolled_hourly_then_every_two_hours_until_midnight(cadence: Cadence) -> None:
    assert hours(cadence.patrol_times(date(2026, 11, 23))) == [
        *(f"{h:02d}:30" for h in range(8, 18)),
        "18:00",
        "20:00",
        "22:00",
    ]


def test_a_holiday_and_a_weekend_are_patrolled_every_two_hours_from_morning_to_midnight(
    cadence: Cadence,
) -> None:
    expected = ["08:30", "10:30", "12:30", "14:30", "16:30", "18:30", "20:30", "22:30"]
    assert hours(cadence.patrol_times(date(2026, 10, 1))) == expected
    assert hours(cadence.patrol_times(date(2026, 11, 28))) == expected


def test_a_make_up_saturday_is_patrolled_like_a_workday(cadence: Cadence) -> None:
    assert hours(cadence.patrol_times(date(2026, 10, 10))) == hours(cadence.patrol_times(date(2026, 11, 23)))
    assert cadence.in_working_hours(at("2026-10-10T10:00"))
    assert not cadence.in_working_hours(at("2026-10-11T10:00"))  # the Sunday after is a day off
    assert not cadence.in_working_hours(at("2026-11-23T18:30"))


def test_a_year_without_holiday_data_gets_both_cadences_and_is_logged_once(
    cadence: Cadence, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="alerts.calendar"):
        monday = cadence.patrol_times(date(2027, 1, 4))
        sunday = cadence.patrol_times(date(2027, 1, 10))
    workday = set(hours(cadence.patrol_times(date(2026, 11, 23))))
    holiday = set(hours(cadence.patrol_times(date(2026, 10, 1))))
    assert set(hours(monday)) == workday | holiday
    assert set(hours(sunday)) == workday | holiday
    assert len(monday) > len(workday)
    warnings = [r for r in caplog.records if "没有 2027 年的官方节假日安排" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    ("notified", "due"),
    [
        # Working day: the next hourly patrol.
        ("2026-11-23T09:05", "2026-11-23T09:30"),
        ("2026-11-23T17:40", "2026-11-23T18:00"),
        # Less than claim_min_minutes (10) before a patrol: the one after.
        ("2026-11-23T09:25", "2026-11-23T10:30"),
        # Night: two-hourly until 24:00; after the 22:00 patrol the next is the first of the morning.
        ("2026-11-23T18:30", "2026-11-23T20:00"),
        ("2026-11-23T22:10", "2026-11-24T08:30"),
        ("2026-11-24T01:00", "2026-11-24T08:30"),
        # Friday night into a weekend: the holiday duty patrol at 08:30 on Saturday.
        ("2026-11-27T23:00", "2026-11-28T08:30"),
        # Weekend and holiday: every two hours.
        ("2026-11-28T11:00", "2026-11-28T12:30"),
        ("2026-10-01T09:00", "2026-10-01T10:30"),
        # 调休 Saturday: hourly like any workday.
        ("2026-10-10T09:00", "2026-10-10T09:30"),
        # A year without data: the earlier of the two cadences (18:30 of the holiday one, not 20:00).
        ("2027-01-04T18:10", "2027-01-04T18:30"),
    ],
)
def test_the_claim_deadline_is_the_next_claim_patrol(cadence: Cadence, notified: str, due: str) -> None:
    assert cadence.claim_deadline(at(notified)) == at(due)


def test_the_three_checkpoints_are_patrol_slots_too(cadence: Cadence) -> None:
    # 20:30 is no claim patrol on a workday, but the evening checkpoint is a patrol.
    assert "20:30" in hours(cadence.patrol_slots(date(2026, 11, 23)))
    assert cadence.last_slot(at("2026-11-23T20:45")) == at("2026-11-23T20:30")
    assert cadence.last_slot(at("2026-11-24T03:00")) == at("2026-11-23T22:00")


def test_doctor_warns_sixty_days_before_the_holiday_data_ends() -> None:
    ends = calendar.calendar_data_ends()
    assert ends == date(2026, 12, 31)
    assert calendar_warning(date(2026, 10, 1)) is None
    soon = calendar_warning(date(2026, 11, 23))
    assert soon is not None
    assert "只到 2026-12-31（还有 38 天）" in soon
    late = calendar_warning(date(2027, 1, 2))
    assert late is not None
    assert "节假日数据只到 2026-12-31，已过期" in late
    assert "两种频次的并集" in late


def test_a_schedule_whose_night_ends_before_work_ends_is_refused() -> None:
    with pytest.raises(ValidationError, match="应在一天里依次排列"):
        ScheduleFile(checkpoints={"morning": "08:30"}, work_hours=("08:30", "18:00"), night_until="17:00")


def test_doctor_shows_the_warning_on_the_office_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from commands.cli_workflow import calendar_line

    monkeypatch.setenv("YUQING_NOW", "2026-06-01T09:00:00+08:00")
    assert calendar_line() == (True, "法定节假日和调休数据覆盖到 2026-12-31")
    monkeypatch.setenv("YUQING_NOW", "2026-12-20T09:00:00+08:00")
    ok, detail = calendar_line()
    assert not ok
    assert "节假日数据只到 2026-12-31（还有 11 天）" in detail


def test_a_wrong_reminder_in_schedule_yaml_names_the_key_and_line(tmp_path) -> None:
    path = tmp_path / "schedule.yaml"
    text = (DEFAULT_DIR / "schedule.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("  claim: [10]", "  claim: [0]"), encoding="utf-8")
    line = next(
        n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "claim: [0]" in row
    )
    with pytest.raises(ConfigError) as caught:
        load_file(path, ScheduleFile)
    assert str(caught.value).startswith(f"{path}:{line}: reminders.claim[0]: 不能小于 1，收到整数 0")
