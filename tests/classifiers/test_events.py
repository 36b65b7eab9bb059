from datetime import datetime, timedelta

from classifiers.events import EventMatcher, Signature, hamming, incident_kinds, key_terms, simhash
from classifiers.tokenise import Tokeniser

T = Tokeniser(["濮阳县", "柳屯镇", "范县"])
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def signature(post_id: str, text: str, counties: tuple[str, ...], at: datetime = NOW) -> Signature:
    words = T.words(text)
    terms = key_terms(words, counties)
    return Signature(post_id, f"event:{post_id}", simhash(words), terms, at, counties, incident_kinds(text))


DISCHARGE = "濮阳县柳屯镇一化工企业被指夜间偷排废水，村民称河沟泛白沫、气味刺鼻，环保部门已介入调查。"


def test_a_copied_article_is_a_near_duplicate() -> None:
    original = signature("sina:1", DISCHARGE * 3, ("濮阳县",))
    copy = signature("netease:9", DISCHARGE * 3 + "（来源：大河报）", ("濮阳县",))
    assert hamming(original.fingerprint, copy.fingerprint) <= 3
    joined = EventMatcher().assign(copy, [original])
    assert joined.event_id == "event:sina:1"
    assert not joined.new
    assert "近似重复" in joined.reasons[0]


def test_another_report_of_the_same_incident_joins_it_by_shared_terms() -> None:
    first = signature("sina:1", DISCHARGE, ("濮阳县",))
    other = signature(
        "weibo:7", "濮阳县一化工厂夜间偷排废水？柳屯镇村民：河沟白沫 刺鼻气味 盼环保部门尽快处理", ("濮阳县",)
    )
    joined = EventMatcher().assign(other, [first])
    assert joined.event_id == "event:sina:1"
    assert "共有关键词" in joined.reasons[0]


def test_different_incidents_places_or_times_stay_apart() -> None:
    first = signature("sina:1", DISCHARGE, ("濮阳县",))
    matcher = EventMatcher()
    accident = signature("sina:2", "范县一货车与面包车相撞致3死2伤，事故原因正在调查。", ("范县",))
    assert matcher.assign(accident, [first]).new
    elsewhere = signature("sina:3", DISCHARGE.replace("濮阳县", "范县"), ("范县",))
    assert matcher.assign(elsewhere, [first]).new
    much_later = signature("sina:4", DISCHARGE, ("濮阳县",), NOW + timedelta(days=10))
    assert matcher.assign(much_later, [first]).new


def test_a_recrawled_post_stays_in_its_event() -> None:
    first = signature("sina:1", DISCHARGE, ("濮阳县",))
    again = Signature("sina:1", "event:sina:1", first.fingerprint, first.terms, NOW, ("濮阳县",))
    moved = Signature("sina:1", "event:sina:1", first.fingerprint, first.terms, NOW, ("濮阳县",))
    assert EventMatcher().assign(again, [moved]).reasons == ("同一条信息再次采集",)


def test_two_deadly_incidents_in_one_county_sharing_their_wording_stay_apart() -> None:
    """They share the county, 死亡, 受伤, 造成 and 事故原因正在调查, but one is an explosion and one a crash:
    joined, the crash would raise no alert of its own."""
    blast = signature(
        "sina:1", "濮阳县一化工企业车间发生爆炸，造成2人死亡、5人受伤，事故原因正在调查。", ("濮阳县",)
    )
    crash = signature(
        "sina:2",
        "濮阳县某路段今晨发生一起三车相撞事故，造成两人死亡三人受伤，事故原因正在调查。",
        ("濮阳县",),
    )
    assert (blast.kinds, crash.kinds) == ({"爆炸"}, {"交通事故"})
    assert len(blast.terms & crash.terms) >= EventMatcher().min_shared_terms  # they would have joined
    assert EventMatcher().assign(crash, [blast]).new


def test_a_real_flood_never_joins_the_drill_that_simulated_one() -> None:
    drill = signature(
        "gov:1", "台前县在吴坝镇黄河大堤开展防汛应急演练，模拟黄河滩区漫滩险情，群众紧急转移。", ("台前县",)
    )
    flood = signature("weibo:2", "台前县吴坝镇黄河滩区出现漫滩险情，黄河大堤下群众紧急转移。", ("台前县",))
    assert EventMatcher().assign(flood, [drill]).new
    second_drill = signature(
        "gov:3", "台前县吴坝镇黄河大堤防汛演练：模拟漫滩险情，群众紧急转移演习。", ("台前县",)
    )
    assert EventMatcher().assign(second_drill, [drill]).event_id == "event:gov:1"


def test_two_reports_of_one_crash_in_other_words_still_join() -> None:
    first = signature(
        "sina:1", "范县濮城镇省道一货车与面包车相撞，造成3人死亡2人受伤，交警已到场。", ("范县",)
    )
    other = signature(
        "weibo:2", "范县濮城镇省道刚刚出了车祸，货车撞了面包车，3人死亡2人受伤，交警到场了", ("范县",)
    )
    assert EventMatcher().assign(other, [first]).event_id == "event:sina:1"
