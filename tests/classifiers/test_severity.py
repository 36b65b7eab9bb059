from dataclasses import fields, replace
from datetime import datetime, timedelta

from classifiers.severity import SeverityModel, Signals, assess
from classifiers.types import Level, RuleHit

MODEL = SeverityModel(
    weights={"nature": 0.35, "intensity": 0.2, "reaction": 0.2, "media": 0.1, "velocity": 0.15},
    thresholds={Level.GENERAL: 0, Level.HOT_TOPIC: 35, Level.SENSITIVE: 60, Level.MAJOR_EMERGENCY: 80},
    official_media=frozenset({"新华社", "人民日报"}),
)
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def test_a_calm_post_is_a_general_matter_and_says_why() -> None:
    result = assess(Signals(sentiment=0.8, now=NOW, published_at=NOW - timedelta(hours=5)), MODEL)
    assert result.level is Level.GENERAL
    assert any(r.startswith("问题性质：未命中") for r in result.reasons)
    assert result.reasons[-1].startswith("综合得分")


def test_more_serious_signals_never_lower_the_level() -> None:
    fire = RuleHit("fire", "火灾伤人", "安全生产", 9, ("起火",))
    base = Signals(rules=(fire,), sentiment=0.2, now=NOW, published_at=NOW - timedelta(hours=2))
    quiet = assess(base, MODEL)
    loud = assess(replace(base, comments=5000, reposts=3000, media=("新华社",)), MODEL)
    assert loud.score > quiet.score
    assert loud.level.rank >= quiet.level.rank
    assert loud.level is Level.MAJOR_EMERGENCY
    assert any("新华社" in r for r in loud.reasons)


def test_a_rule_floor_lifts_the_level_and_is_explained() -> None:
    deaths = RuleHit("deaths", "人员死亡", "突发事件", 10, ("死亡",))
    result = assess(
        Signals(rules=(deaths,), rule_floors={"deaths": Level.MAJOR_EMERGENCY}, sentiment=0.5), MODEL
    )
    assert result.level is Level.MAJOR_EMERGENCY
    assert "规则「人员死亡」要求至少重大突发事态" in result.reasons


def test_a_sudden_rise_feeds_development_as_much_as_it_stands_out() -> None:
    from classifiers.spikes import judge

    history = [0, 1, 1, 0, 2] * 10
    small = judge("县区", "范县", NOW, 8, history)
    large = judge("县区", "范县", NOW, 40, history)
    assert small is not None
    assert large is not None
    base = Signals(sentiment=0.3, comments=20, now=NOW, published_at=NOW - timedelta(hours=3))
    calm, rising, soaring = (assess(replace(base, spikes=s), MODEL) for s in ((), (small,), (large, small)))
    assert calm.score < rising.score < soaring.score
    # The loudest rise is the one told.
    assert f"发展态势：突增，{large.reason}" in soaring.reasons
    assert not any(small.reason in r for r in soaring.reasons)
    assert not any("突增" in r for r in calm.reasons)


def test_assess_values_is_assess_of_the_same_signals() -> None:
    from classifiers.severity import assess_values
    from classifiers.spikes import judge

    rise = judge("县区", "范县", NOW, 40, [0, 1, 1, 0, 2] * 10)
    assert rise is not None
    fire = RuleHit("fire", "火灾", "安全生产", 8.0, ("起火",))
    deaths = RuleHit("deaths", "", "", 10.0, ("死亡",))
    for signals in (
        Signals(),
        Signals(rules=(fire, deaths), rule_floors={"deaths": Level.MAJOR_EMERGENCY}, sentiment=0.1),
        Signals(comments=500, reposts=40, likes=9000, media=("新华社", "某网"), official_author=True),
        Signals(media=("某网",), now=NOW, published_at=NOW - timedelta(hours=2), spikes=(rise,)),
    ):
        values = [getattr(signals, f.name) for f in fields(signals)]
        assert assess_values(MODEL, *values) == assess(signals, MODEL)
