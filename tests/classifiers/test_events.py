from datetime import datetime, timedelta

from classifiers.events import EventMatcher, Signature, hamming, key_terms, simhash
from classifiers.tokenise import Tokeniser

T = Tokeniser(["濮阳县", "柳屯镇", "范县"])
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def signature(post_id: str, text: str, counties: tuple[str, ...], at: datetime = NOW) -> Signature:
    words = T.words(text)
    return Signature(post_id, f"event:{post_id}", simhash(words), key_terms(words, counties), at, counties)


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
