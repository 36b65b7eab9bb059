from dataclasses import replace

import pytest

from classifiers.territory import CountyPlaces, Gazetteer, TerritoryLocator

GAZETTEER = Gazetteer(
    province="河南省",
    province_aliases=("河南",),
    city="濮阳市",
    city_aliases=("濮阳",),
    city_landmarks=("中原油田",),
    counties=(
        CountyPlaces("华龙区", townships=("胜利路街道",)),
        CountyPlaces("濮阳县", townships=("城关镇", "柳屯镇")),
        CountyPlaces("南乐县", townships=("城关镇",), landmarks=("仓颉陵",)),
        CountyPlaces("范县", townships=("濮城镇",)),
        CountyPlaces("台前县", landmarks=("将军渡",)),
        CountyPlaces("濮阳经济技术开发区", aliases=("濮阳经开区",)),
    ),
)


@pytest.fixture(scope="module")
def locator() -> TerritoryLocator:
    return TerritoryLocator(GAZETTEER)


def test_county_and_township_are_found_with_reasons(locator: TerritoryLocator) -> None:
    t = locator.locate(title="濮阳县柳屯镇化工厂偷排", text="村民反映")
    assert (t.province, t.city, t.counties, t.townships) == ("河南省", "濮阳市", ("濮阳县",), ("柳屯镇",))
    assert any("标题提到「濮阳县」" in r for r in t.reasons)


def test_a_township_many_counties_share_needs_its_county(locator: TerritoryLocator) -> None:
    assert locator.locate(text="濮阳城关镇一小区停水").counties == ()
    t = locator.locate(text="南乐县城关镇一小区停水")
    assert t.counties == ("南乐县",)
    assert t.townships == ("城关镇",)


def test_a_short_county_name_needs_the_city_in_view(locator: TerritoryLocator) -> None:
    assert locator.locate(text="他是全省的模范县长").counties == ()
    assert locator.locate(text="濮阳范县濮城镇发生交通事故").counties == ("范县",)
    assert locator.locate(text="范县发生交通事故", ip_location="IP属地：河南").counties == ("范县",)


def test_landmarks_and_aliases_place_a_post(locator: TerritoryLocator) -> None:
    assert locator.locate(text="河南将军渡景区游客爆满").counties == ("台前县",)
    assert locator.locate(text="濮阳经开区一企业发生火灾").counties == ("濮阳经济技术开发区",)
    city_only = locator.locate(text="中原油田发布通知")
    assert (city_only.city, city_only.counties) == ("濮阳市", ())


def test_two_counties_are_both_listed_in_gazetteer_order(locator: TerritoryLocator) -> None:
    assert locator.locate(text="台前县和范县沿黄群众转移").counties == ("范县", "台前县")


def test_nothing_local_has_no_city_and_zero_confidence(locator: TerritoryLocator) -> None:
    t = locator.locate(text="北京今天举行马拉松")
    assert (t.province, t.city, t.counties, t.confidence) == (None, None, (), 0.0)
    province_only = locator.locate(text="河南今年小麦丰收")
    assert (province_only.province, province_only.city) == ("河南省", None)


def test_a_same_named_township_elsewhere_is_not_taken_for_ours() -> None:
    locator = TerritoryLocator(
        Gazetteer(
            province="河南省",
            province_aliases=("河南",),
            city="濮阳市",
            city_aliases=("濮阳",),
            counties=(CountyPlaces("范县", townships=("王楼镇",)),),
            elsewhere=("信阳市", "信阳", "山东"),
        )
    )
    elsewhere = locator.locate(text="河南信阳王楼镇一村庄发生火灾")
    assert elsewhere.counties == ()
    assert elsewhere.city is None
    assert any("外地「信阳」" in r for r in elsewhere.reasons)
    # Named with its county, it is ours even beside another place.
    ours = locator.locate(text="从信阳回来后，他在范县王楼镇开了家店")
    assert ours.counties == ("范县",)
    assert ours.townships == ("王楼镇",)
    assert locator.locate(text="河南王楼镇一村庄发生火灾").counties == ("范县",)


def test_a_short_name_standing_as_a_word_places_a_post_before_any_following_word() -> None:
    locator = TerritoryLocator(
        replace(GAZETTEER, counties=(*GAZETTEER.counties, CountyPlaces("清丰县", aliases=("清丰",))))
    )
    # The words are the tokeniser's: the short name is a word of its own before 仓颉陵, 的, 孙口.
    assert locator.locate(text="南乐仓颉陵周末免费开放", words=["南乐", "仓颉陵", "周末"]).counties == (
        "南乐县",
    )
    assert locator.locate(text="清丰的暖气不热", words=["清丰", "的", "暖气"]).counties == ("清丰县",)
    # Inside a longer word (模范县长, 范局长) it is no place, whatever the city in view.
    assert locator.locate(text="濮阳的模范县长", words=["濮阳", "的", "模范县", "长"]).counties == ()
    assert locator.locate(text="范局长带队检查", words=["范局长", "带队", "检查"]).counties == ()
    # 范县长 is Mr 范 the county head, however the tokeniser splits it; 范县县长 is 范县's.
    assert locator.locate(text="濮阳范县长到村里调研", words=["濮阳", "范县", "长"]).counties == ()
    assert locator.locate(text="濮阳范县县长到村里调研", words=["濮阳", "范县", "县长"]).counties == ("范县",)


def test_a_landmark_of_three_characters_or_more_places_a_post_on_its_own(locator: TerritoryLocator) -> None:
    t = locator.locate(text="仓颉陵景区周末免费开放")
    assert t.counties == ("南乐县",)
    assert "正文提到「仓颉陵」" in t.reasons[0]
