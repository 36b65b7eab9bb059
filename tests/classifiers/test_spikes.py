"""Spikes: a county or topic rising far above its own usual hourly level is named, with the reason in
words; an ordinary busy hour, a handful of posts or a series too new to have a usual level is not."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from classifiers.spikes import SpikeWatch, baseline, judge

START = datetime.fromisoformat("2026-11-16T00:00:00+08:00")
HOUR = timedelta(hours=1)


def week_of(watch: SpikeWatch, county: str, per_hour: list[int], topic: str | None = None) -> datetime:
    """Feeds `per_hour[i]` posts in hour i from START; returns the first hour after them."""
    for i, count in enumerate(per_hour):
        for minute in range(count):
            watch.add(START + i * HOUR + timedelta(minutes=minute % 60), [county], [topic] if topic else [])
    return START + len(per_hour) * HOUR


def test_a_quiet_county_with_thirty_posts_in_an_hour_is_a_spike_told_in_words() -> None:
    rng = random.Random(7)
    watch = SpikeWatch()
    now = week_of(watch, "清丰县", [rng.choice([0, 1, 1, 2, 3]) for _ in range(7 * 24)])
    for minute in range(30):
        watch.add(now + timedelta(minutes=minute), ["清丰县"])
    [spike] = watch.check(now + timedelta(minutes=50))
    assert (spike.kind, spike.name, spike.count) == ("县区", "清丰县", 30)
    assert spike.baseline.median == 1
    assert spike.reason.startswith("县区「清丰县」近1小时30条，过去7天每小时中位数1条")
    assert "约为平时的30倍" in spike.reason
    assert spike.at == now + HOUR


def test_a_busy_county_within_its_usual_swing_is_not_a_spike() -> None:
    rng = random.Random(11)
    watch = SpikeWatch()
    now = week_of(watch, "华龙区", [rng.randint(20, 40) for _ in range(7 * 24)])
    for minute in range(42):
        watch.add(now + timedelta(minutes=minute), ["华龙区"])
    assert watch.check(now + timedelta(minutes=59)) == []


def test_a_handful_of_posts_is_never_a_spike_however_quiet_the_county() -> None:
    watch = SpikeWatch(since=START)  # watched for two days in which 台前县 was never named
    now = week_of(watch, "台前县", [0] * 48)
    for minute in range(4):
        watch.add(now + timedelta(minutes=minute), ["台前县"])
    assert watch.check(now) == []
    watch.add(now + timedelta(minutes=5), ["台前县"])
    [spike] = watch.check(now)
    assert spike.count == 5
    assert "约为平时" not in spike.reason  # no multiple of a usual level of nothing


def test_a_county_first_named_today_has_the_hours_since_watching_began_as_its_usual_level() -> None:
    watch = SpikeWatch()
    now = week_of(watch, "华龙区", [3] * 48)
    for minute in range(12):
        watch.add(now + timedelta(minutes=minute), ["范县"])
    [spike] = watch.check(now)
    assert (spike.name, spike.baseline.hours, spike.baseline.median) == ("范县", 48, 0)


def test_less_than_a_day_watched_gives_no_usual_level_and_no_spike() -> None:
    watch = SpikeWatch()
    now = week_of(watch, "南乐县", [1] * 12)
    for minute in range(40):
        watch.add(now + timedelta(minutes=minute), ["南乐县"])
    assert watch.check(now) == []


def test_a_post_read_late_counts_in_its_own_hour() -> None:
    watch = SpikeWatch()
    now = week_of(watch, "濮阳县", [1] * 30)
    for minute in range(10):
        watch.add(now + timedelta(minutes=minute), ["濮阳县"])
    watch.add(now - 3 * HOUR, ["濮阳县"])  # a crawl reads newest first
    [spike] = watch.check(now)
    assert spike.count == 10
    assert list(watch.series[("县区", "濮阳县")].counts)[-4] == 2


def test_a_topic_rising_is_named_apart_from_its_county_and_the_loudest_comes_first() -> None:
    watch = SpikeWatch()
    now = week_of(watch, "清丰县", [2] * 72, topic="欠薪")
    for minute in range(40):
        watch.add(now + timedelta(minutes=minute), ["清丰县"], ["欠薪"])
    for minute in range(15):
        watch.add(now + timedelta(minutes=minute), ["清丰县"])
    spikes = watch.check(now)
    assert [(s.kind, s.name, s.count) for s in spikes] == [("县区", "清丰县", 55), ("话题", "欠薪", 40)]
    assert spikes[0].score > spikes[1].score


def test_an_hour_after_the_rise_the_series_is_judged_on_its_new_hour() -> None:
    watch = SpikeWatch()
    now = week_of(watch, "范县", [1] * 48)
    for minute in range(20):
        watch.add(now + timedelta(minutes=minute), ["范县"])
    assert len(watch.check(now)) == 1
    assert watch.check(now + HOUR) == []


def test_baseline_and_judge_on_their_own() -> None:
    usual = baseline([2, 2, 3, 1, 2, 40])
    assert (usual.median, usual.mad, usual.hours) == (2.0, 0.5, 6)
    assert judge("话题", "供暖", START, 12, [2, 2, 3, 1, 2, 40], min_history=6) is not None
    assert judge("话题", "供暖", START, 4, [2, 2, 3, 1, 2, 40], min_history=6) is None
