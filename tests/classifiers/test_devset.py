"""The named cases of the office's trial run and the floor reached on the development set, through the
shipped configuration (config/*.yaml), so a rule, gazetteer or keyword change that judges worse fails."""

from __future__ import annotations

from datetime import datetime

import pytest

from benchmarks.accuracy_devset import DEVSET, evaluate
from classifiers.types import Level
from pipeline.context import Context
from pipeline.items import Post, Source
from pipeline.runner import OfflineRunner

NOW = datetime.fromisoformat("2026-12-03T09:00:00+08:00")


@pytest.fixture(scope="module")
def context() -> Context:
    return Context.load()


def analyse(context: Context, text: str, title: str = ""):
    post = Post(
        id=f"case:{hash((title, text))}",
        source=Source.LOCAL,
        url="https://case.invalid/1",
        title=title,
        text=text,
        published_at=NOW,
        crawled_at=NOW,
    )
    return OfflineRunner(context).run(post).analysis


def test_a_colloquial_road_death_is_a_major_emergency_with_its_rule_named(context: Context) -> None:
    a = analyse(context, "范县车祸死了3个人")
    assert a.severity.level is Level.MAJOR_EMERGENCY
    assert any("要求至少重大突发事态" in r for r in a.severity.reasons)
    assert a.territory.counties == ("范县",)


@pytest.mark.parametrize(
    "text",
    [
        "骑电动车的大爷被货车撞了，当场就没了",
        "昨夜村里一户人家着火，两个老人没能跑出来",
        "一处在建楼房坍塌，有工人被埋",
        "黄河生产堤决口了，水已经漫到村里",
        "学校食堂午饭后几十个学生上吐下泻，已送医院",
    ],
)
def test_other_casualties_and_disasters_are_major_emergencies(context: Context, text: str) -> None:
    assert analyse(context, text).severity.level is Level.MAJOR_EMERGENCY


def test_a_planned_gathering_at_the_county_government_is_escalated(context: Context) -> None:
    a = analyse(context, "征地款拖了三年了，明天上午九点咱们都去清丰县政府门口，不给说法不走")
    assert a.severity.level is Level.SENSITIVE
    assert any("约定聚集上访" in r for r in a.severity.reasons)
    assert a.departments[0] == "信访"


def test_black_water_that_put_old_people_in_hospital_is_escalated(context: Context) -> None:
    a = analyse(
        context,
        "村边一家工厂天天往河里排黑水，河水又黑又臭，村里好几个老人住院了",
        "濮阳县一工厂往河里排黑水",
    )
    assert a.severity.level is Level.SENSITIVE
    assert a.departments[0] == "生态环境"


def test_official_good_news_on_wage_arrears_is_not_escalated(context: Context) -> None:
    a = analyse(
        context,
        "为切实保障农民工合法权益，清丰县人社局近日启动根治欠薪冬季专项行动，对全县在建工程项目开展拉网式排查。",
        "清丰县启动根治欠薪冬季专项行动",
    )
    assert a.severity.level is Level.GENERAL
    assert a.severity.reasons[0] == "问题性质：未命中关键词规则"
    assert a.territory.counties == ("清丰县",)


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("南乐仓颉陵景区本周末免费开放", "南乐县"),
        ("南乐西街美食节今天开幕了", "南乐县"),
        ("清丰的中小学今年什么时候放寒假", "清丰县"),
        ("台前孙口到县城这条路坑坑洼洼好几年了", "台前县"),
        ("周末去了郑板桥纪念馆，讲解很详细", "范县"),
    ],
)
def test_short_names_and_landmarks_place_a_post(context: Context, text: str, county: str) -> None:
    assert analyse(context, text).territory.counties == (county,)


def test_a_surname_before_a_title_is_no_place(context: Context) -> None:
    a = analyse(context, "市公安局范局长带队在华龙区开展夜间治安巡查")
    assert a.territory.counties == ("华龙区",)
    assert analyse(context, "濮阳市华龙区的范县长今天到村里调研").territory.counties == ("华龙区",)
    assert analyse(context, "濮阳市表彰了一位模范县长").territory.counties == ()


def test_a_housing_fund_question_reaches_the_housing_fund_department(context: Context) -> None:
    a = analyse(context, "请问在南乐买的二手房，公积金能提取吗？需要带什么材料")
    assert a.departments == ["住房公积金"]
    assert a.severity.level is Level.GENERAL


def test_the_canteen_story_goes_to_market_supervision_not_the_environment_bureau(context: Context) -> None:
    a = analyse(context, "孩子说学校食堂的饭菜有股异味，肉好像不新鲜，希望有人去查查食堂")
    assert a.departments[0] == "市场监管"
    assert "生态环境" not in a.departments
    assert any("专指此项" in r for r in a.department_reasons)


def test_the_development_set_stays_above_the_floor_reached(context: Context) -> None:
    """Reached: 100% exact, 100% within one, no major/minor confusion, territory 100%, departments 90.7%
    (tests/data/devset/README.md); the margins leave room for a deliberate relabelling, not a regression."""
    f = evaluate(DEVSET / "dev.jsonl", context)
    assert f.total >= 400
    assert f.major_minor == 0, f.misses
    assert f.within_one == f.total, f.misses
    assert f.exact / f.total >= 0.97, f.misses
    assert f.territory / f.total >= 0.97, f.misses
    assert f.department_primary / f.total >= 0.88, f.misses
