"""The shipped 濮阳 example loads, and each way an office breaks a file gives one line naming file, line and key.

Every broken case edits a copy of the example the way a clerk would, then checks the exact message prefix
`<file>:<line>: <key>: ` and the reason, so a change that loses the line or the key shows up here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifiers.rules import compile_rules
from classifiers.types import Level
from config.errors import ConfigError
from config.loader import DEFAULT_DIR, load_config, load_file
from config.models import OfficeConfig, SourcesFile

CATEGORIES = {
    "突发事件",
    "自然灾害",
    "安全生产",
    "生态环境",
    "民生诉求",
    "政策误读",
    "干部作风",
    "涉法涉诉",
    "群体性事件",
    "正面宣传",
}


@pytest.fixture(scope="module")
def example() -> OfficeConfig:
    return load_config(DEFAULT_DIR)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A copy of the shipped example that a test may break."""
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str, *, after: str = "") -> int:
    """Replace the first `old` (after `after`) by `new`; returns the line (1-based) where the edit starts."""
    text = path.read_text(encoding="utf-8")
    assert after in text, f"{after!r} is no longer in the example {path.name}"
    at = text.find(old, text.index(after))
    assert at >= 0, f"{old!r} is no longer in the example {path.name}"
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert needle in text, f"{needle!r} is not in {path.name}"
    return text.count("\n", 0, text.index(needle)) + 1


def load_error(directory: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(directory)
    assert "\n" not in str(caught.value)
    return caught.value


def rule_index(example: OfficeConfig, rule_id: str) -> int:
    return [rule.id for rule in example.rules.rules].index(rule_id)


def topic_index(example: OfficeConfig, topic: str) -> int:
    return [department.topic for department in example.units.departments].index(topic)


# --- the shipped example -------------------------------------------------------------------------------


def test_example_territory_is_puyang_with_all_its_county_level_units(example: OfficeConfig) -> None:
    territory = example.territory
    assert (territory.province, territory.city) == ("河南省", "濮阳市")
    assert {county.name: county.kind for county in territory.counties} == {
        "华龙区": "区",
        "濮阳县": "县",
        "清丰县": "县",
        "南乐县": "县",
        "范县": "县",
        "台前县": "县",
        "濮阳经济技术开发区": "开发区",
        "濮阳工业园区": "园区",
        "濮阳市城乡一体化示范区": "示范区",
    }
    for county in territory.counties:
        assert len(set(county.townships)) == len(county.townships), county.name
        assert county.gov_office.startswith(county.name)
        assert county.propaganda.startswith(county.name)
    by_name = {county.name: county for county in territory.counties}
    assert len(by_name["濮阳县"].townships) == 20
    assert "城关镇" in by_name["南乐县"].townships
    assert "城关镇" in by_name["台前县"].townships


def test_example_departments_have_templates_and_enough_keywords(example: OfficeConfig) -> None:
    departments = example.units.departments
    assert len(departments) >= 15
    for department in departments:
        assert "{county}" in department.county_unit
        assert len(department.keywords) >= 5, department.topic
    vertical = {d.topic for d in departments if d.vertical}
    assert vertical == {"生态环境", "自然资源", "税务", "消防", "住房公积金"}
    assert example.units.city_units.duty == ["市网信办值班室"]


def test_example_rules_compile_and_use_the_office_categories(example: OfficeConfig) -> None:
    rules = example.rules.rules
    assert len(rules) >= 30
    assert {rule.category for rule in rules} == CATEGORIES
    assert all(0 <= rule.weight <= 10 for rule in rules)
    floors = {rule.id: rule.min_level for rule in rules if rule.min_level}
    assert floors["emergency-deaths"] is Level.MAJOR_EMERGENCY
    assert len(compile_rules([(rule.id, rule.expr) for rule in rules])) == len(rules)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("濮阳县一化工厂发生爆炸 已致2人死亡", {"emergency-deaths", "safety-explosion"}),
        (
            "清丰县一工地农民工讨薪，数十人在售楼部门口聚集",
            {"livelihood-wage-arrears", "mass-wage-protest", "mass-gathering"},
        ),
        ("南乐县一企业夜间偷排污水进河沟，村民称异味刺鼻", {"env-discharge", "env-air"}),
        ("华龙区开展危化品泄漏爆炸应急演练", set()),
        ("拨打12345多次反映，一直推诿没人管", {"conduct-hotline"}),
    ],
)
def test_example_rules_fire_on_what_they_are_named_for(
    example: OfficeConfig, title: str, expected: set[str]
) -> None:
    ruleset = compile_rules([(rule.id, rule.expr) for rule in example.rules.rules])
    assert {hit.id for hit in ruleset.match({"title": title})} == expected


def test_example_severity_alerts_schedule_and_sources(example: OfficeConfig) -> None:
    severity = example.severity
    assert sum(severity.weights.values()) == pytest.approx(1.0)
    assert [severity.thresholds[level] for level in Level] == [0, 35, 60, 80]
    assert {"人民日报", "新华社", "河南日报", "濮阳日报"} <= set(severity.official_media)

    assert example.alerts.min_level is Level.HOT_TOPIC
    assert [channel.name for channel in example.alerts.channels] == ["console"]

    # 附件2 第五条、第六条: three checkpoints a day, hourly in office hours, every two hours until midnight.
    schedule = example.schedule
    assert schedule.checkpoints == {"morning": "08:30", "afternoon": "14:30", "evening": "20:30"}
    assert schedule.work_hours == ("08:30", "18:00")
    assert (schedule.work_interval_minutes, schedule.off_hours_interval_minutes) == (60, 120)
    assert schedule.night_until == "24:00"

    source = next(s for s in example.sources.sources if s.name == "sina_news")
    assert (source.name, source.spider, source.max_pages, source.max_age_hours) == (
        "sina_news",
        "sina_news",
        3,
        72,
    )
    assert source.start_urls == [
        "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"
    ]


def test_load_file_reads_one_file_into_its_model() -> None:
    sources = load_file(DEFAULT_DIR / "sources.yaml", SourcesFile)
    assert sources.sources[0].name == "sina_news"


# --- what an office gets wrong -------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_and_line(office: Path) -> None:
    path = office / "schedule.yaml"
    line = edit(path, '  afternoon: "14:30"', '\tafternoon: "14:30"')  # a tab from a text editor
    error = load_error(office)
    assert str(error) == f"{path}:{line}: -: YAML 格式错误：有制表符（Tab），YAML 只能用空格缩进"


def test_missing_required_key(office: Path) -> None:
    path = office / "territory.yaml"
    edit(path, "    gov_office: 范县政府办\n", "")
    error = load_error(office)
    assert (
        str(error)
        == f"{path}:{line_of(path, '  - name: 范县')}: counties[4].gov_office: 缺少这一项，必须填写"
    )


def test_wrong_type(office: Path, example: OfficeConfig) -> None:
    path = office / "rules.yaml"
    line = edit(path, "    weight: 9\n", "    weight: 很高\n", after="  - id: safety-explosion\n")
    index = rule_index(example, "safety-explosion")
    error = load_error(office)
    assert str(error) == (f'{path}:{line}: rules[{index}].weight: 应为数字，收到字符串 "很高"')


def test_unknown_key_is_named_where_it_is(office: Path) -> None:
    path = office / "rules.yaml"
    line = edit(path, "    min_level: 重大突发事态\n", "    min_levle: 重大突发事态\n")
    error = load_error(office)
    assert str(error) == f"{path}:{line}: rules[0].min_levle: 不认识这个键（多半是键名拼错了，或放错了层级）"


def test_mistyped_required_key_points_at_the_typo_not_the_missing_key(office: Path) -> None:
    path = office / "units.yaml"
    line = edit(path, "    keywords: [排污", "    keyword: [排污")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", "departments[0].keyword")
    assert error.reason == "不认识这个键（多半是键名拼错了，或放错了层级）"


def test_county_unit_without_placeholder(office: Path, example: OfficeConfig) -> None:
    path = office / "units.yaml"
    line = edit(path, 'county_unit: "{county}教育局"', "county_unit: 县教育局")
    index = topic_index(example, "教育")
    error = load_error(office)
    assert (
        str(error)
        == f"{path}:{line}: departments[{index}].county_unit: 要含有 {{county}}（代表县区名称），如 {{county}}教育局"
    )


def test_duplicated_rule_id(office: Path, example: OfficeConfig) -> None:
    path = office / "rules.yaml"
    edit(path, "  - id: safety-gas\n", "  - id: safety-explosion\n")
    first, second = rule_index(example, "safety-explosion"), rule_index(example, "safety-gas")
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line_of(path, '  - id: ')}: rules: 规则编号“safety-explosion”重复出现"
        f"（rules[{first}] 和 rules[{second}]）"
    )


def test_duplicated_department_topic(office: Path, example: OfficeConfig) -> None:
    path = office / "units.yaml"
    edit(path, "  - topic: 水利\n", "  - topic: 教育\n")
    first, second = topic_index(example, "教育"), topic_index(example, "水利")
    error = load_error(office)
    assert error.key == "departments"
    assert error.reason == f"主管领域“教育”重复出现（departments[{first}] 和 departments[{second}]）"


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("'拆迁 NEAR/20 (强拆|暴力|打人|殴打'", "左括号 ( 没有对应的右括号 )"),
        ("'拆迁 NEAR/20 (强拆|暴力))'", "多了一个右括号 )"),
        ("'拆迁 NEAR/20'", "表达式在这里结束了，但这里还应有一个词"),
        ("'拆迁 |'", "表达式在这里结束了，但这里还应有一个词"),
    ],
)
def test_bad_rule_expression(office: Path, example: OfficeConfig, broken: str, reason: str) -> None:
    path = office / "rules.yaml"
    line = edit(path, "'拆迁 NEAR/20 (强拆|暴力|打人|殴打) | 强拆 NEAR/30 (殴打|打伤|打人|推倒)'", broken)
    index = rule_index(example, "legal-forced-demolition")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", f"rules[{index}].expr")
    assert error.reason.startswith("规则 legal-forced-demolition 第 ")
    assert error.reason.endswith(f"个字符处：{reason}")
    assert str(error).startswith(f"{path}:{line}: rules[{index}].expr: 规则 legal-forced-demolition")


def test_missing_file(office: Path) -> None:
    path = office / "alerts.yaml"
    path.unlink()
    error = load_error(office)
    assert str(error) == f"{path}: -: 文件不存在"


def test_file_not_in_utf8_names_the_line(office: Path) -> None:
    # A line pasted from a document saved in GBK, the usual Windows default.
    path = office / "territory.yaml"
    line = line_of(path, "  - name: 范县")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    data = b"".join(
        text.encode("gbk") if number == line else text.encode("utf-8") for number, text in enumerate(lines, 1)
    )
    path.write_bytes(data)
    error = load_error(office)
    assert str(error) == f"{path}:{line}: -: 不是 UTF-8 编码的文本，请把文件另存为 UTF-8"


def test_unquoted_time_is_caught_with_a_hint(office: Path) -> None:
    path = office / "schedule.yaml"
    line = edit(path, '  afternoon: "14:30"', "  afternoon: 14:30")  # YAML reads this as the number 870
    error = load_error(office)
    assert str(error) == (f'{path}:{line}: checkpoints.afternoon: 应为加引号的时刻，如 "08:30"，收到整数 870')


def test_weights_that_do_not_add_up_to_one(office: Path) -> None:
    path = office / "severity.yaml"
    edit(path, "  nature: 0.35", "  nature: 0.45")
    error = load_error(office)
    assert str(error) == f"{path}:{line_of(path, '  nature:')}: weights: 各项权重之和应为 1，现在是 1.1"


def test_thresholds_that_do_not_rise(office: Path) -> None:
    path = office / "severity.yaml"
    edit(path, "  复杂敏感事件: 60", "  复杂敏感事件: 90")
    error = load_error(office)
    assert error.file == f"{path}:{line_of(path, '  一般性事项:')}"
    assert (error.key, error.reason) == ("thresholds", "起点分数应从一般性事项到重大突发事态逐级升高")


def test_recipient_on_a_channel_that_does_not_exist(office: Path) -> None:
    path = office / "alerts.yaml"
    line = edit(path, "recipients: {}", "recipients:\n  市委宣传部: [consle]") + 1
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line}: recipients: 市委宣传部：没有名为“consle”的渠道（channels 里有：console）"
    )


def test_one_place_name_for_two_counties(office: Path) -> None:
    path = office / "territory.yaml"
    edit(path, "aliases: [南乐]", "aliases: [清丰]")
    error = load_error(office)
    assert error.key == "counties"
    assert error.reason == "地名“清丰”同时给了清丰县和南乐县"


def test_empty_file(office: Path) -> None:
    path = office / "units.yaml"
    path.write_text("# 还没写\n", encoding="utf-8")
    error = load_error(office)
    assert str(error) == f"{path}: -: 文件最外层应是“键: 值”的映射，现在是空的或不是映射"


def test_a_key_without_its_colon_is_named_on_its_own_line(office: Path) -> None:
    path = office / "severity.yaml"
    line = edit(path, "  社会热点问题: 35", "  社会热点问题 35")
    error = load_error(office)
    assert str(error) == f"{path}:{line}: -: YAML 格式错误：缺少冒号，或冒号后缺少空格（应写成“键: 值”）"


def test_only_the_files_asked_for_are_read(office: Path) -> None:
    line = edit(office / "rules.yaml", "    weight: 10", "    wieght: 10")
    partial = load_config(office, only={"units", "schedule"})
    assert partial.units.city_units.propaganda == "市委宣传部"
    assert partial.schedule.sweep_minutes == 1
    with pytest.raises(AttributeError, match=r"rules\.yaml was not loaded"):
        _ = partial.rules
    error = load_error(office)  # whoever reads rules.yaml still gets the one line
    assert str(error).startswith(f"{office / 'rules.yaml'}:{line}: rules[0].wieght: ")
    with pytest.raises(ValueError, match="no such config file: rule"):
        load_config(office, only={"rule"})


# --- every rule the files promise is enforced ----------------------------------------------------------


def test_a_key_written_twice_is_refused_at_its_second_line(office: Path) -> None:
    # YAML itself keeps the second and drops the first: sina_news would be patrolled 30 pages deep.
    path = office / "sources.yaml"
    first = edit(path, "    max_pages: 3\n", "    max_pages: 3\n    max_age_hours: 24\n    max_pages: 30\n")
    error = load_error(office)
    assert str(error) == (
        f"{path}:{first + 2}: sources[0].max_pages: 键重复：第 {first} 行已经写过 max_pages；"
        "YAML 只会留下后一个、悄悄丢掉前一个，请删去或合并其中一个"
    )
    assert error.kind == "duplicate_key"


def test_a_top_level_key_written_twice_is_refused(office: Path) -> None:
    path = office / "alerts.yaml"
    first = line_of(path, "min_level: 社会热点问题")
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "min_level: 重大突发事态\n", encoding="utf-8")
    last = text.count("\n") + 1
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{last}", "min_level")
    assert error.reason.startswith(f"键重复：第 {first} 行已经写过 min_level")


def test_a_key_written_twice_in_one_line_is_refused_through_load_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {name: a, spider: generic, name: b, start_urls: [http://x.cn/]}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_file(path, SourcesFile)
    assert str(caught.value).startswith(f"{path}:2: sources[0].name: 键重复：第 2 行已经写过 name；")


def test_an_unknown_spider_is_refused_naming_the_close_one(office: Path, example: OfficeConfig) -> None:
    path = office / "sources.yaml"
    line = edit(path, "    spider: sohu_news", "    spider: sohu_new")
    index = [s.name for s in example.sources.sources].index("sohu_news")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", f"sources[{index}].spider")
    assert error.reason.startswith(
        "没有名为“sohu_new”的爬虫，是不是 sohu_news？（可用的有：generic、ifeng_news、"
    )


def test_a_spider_that_does_not_exist_is_refused_by_load_file_too(office: Path) -> None:
    # The crawl process reads sources.yaml alone; it gets the same line.
    path = office / "sources.yaml"
    line = edit(path, "    spider: sina_news", "    spider: nosuch")
    with pytest.raises(ConfigError) as caught:
        load_file(path, SourcesFile)
    assert str(caught.value).startswith(
        f"{path}:{line}: sources[0].spider: 没有名为“nosuch”的爬虫（可用的有："
    )


def test_the_spider_list_in_config_is_the_spiders_that_exist() -> None:
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    from config.models import SPIDERS

    settings = Settings()
    settings.setmodule("config.settings")
    assert sorted(SPIDERS) == sorted(SpiderLoader.from_settings(settings).list())


def test_a_recipient_that_is_no_unit_is_refused(office: Path) -> None:
    # 清丰县宣传部 is not how territory.yaml spells it: the real 清丰县委宣传部 would never be told.
    path = office / "alerts.yaml"
    line = edit(path, "recipients: {}", "recipients:\n  市委宣传部: [console]\n  清丰县宣传部: [console]") + 2
    error = load_error(office)
    assert str(error).startswith(
        f"{path}:{line}: recipients.清丰县宣传部: 没有名为“清丰县宣传部”的单位，发给它的预警无人收到"
        "（相近的有：清丰县委宣传部、"
    )
    assert error.kind == "unknown_unit"


def test_every_unit_the_routing_names_can_be_a_recipient(example: OfficeConfig) -> None:
    from alerts.routing import Router
    from config.models import unit_names

    known = unit_names(example.units, example.territory)
    router = Router(example)
    counties = [county.name for county in example.territory.counties]
    topics = [department.topic for department in example.units.departments]
    named: set[str] = set()
    for level in Level:
        for places in [[], *([c] for c in counties), counties[:2]]:
            for lines in [[], *([t] for t in topics), topics[:2]]:
                decision = router.route(places, lines, level)
                named |= {*decision.first, *decision.coordinate, *decision.claim, *decision.inform}
    assert named <= known.keys()
    assert {"市生态环境局办公室", "市生态环境局清丰县分局", "清丰县委宣传部", "市网信办值班室"} <= named


def test_a_unit_in_a_channels_address_book_must_exist_too(office: Path) -> None:
    path = office / "alerts.yaml"
    line = edit(
        path,
        "  - name: console\n    type: console\n",
        "  - name: console\n    type: console\n  - name: mail\n    type: email\n    options:\n"
        "      host: smtp.example.gov.cn\n      from: yq@example.gov.cn\n      to:\n"
        "        市委宣传部: [a@example.gov.cn]\n        市宣传部: [b@example.gov.cn]\n",
    )
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line + 9}", "channels[1].options.to.市宣传部")
    assert error.reason.startswith("没有名为“市宣传部”的单位")


def test_units_are_checked_only_when_the_files_that_name_them_are_loaded(office: Path) -> None:
    edit(office / "alerts.yaml", "recipients: {}", "recipients:\n  清丰县宣传部: [console]")
    # The case commands read alerts.yaml and units.yaml but not territory.yaml, where county units are.
    partial = load_config(office, only={"units", "schedule", "alerts"})
    assert list(partial.alerts.recipients) == ["清丰县宣传部"]
    assert load_config(office, only={"alerts"}).alerts.recipients == {"清丰县宣传部": ["console"]}
    assert load_error(office).key == "recipients.清丰县宣传部"


def test_two_channels_of_one_name_are_refused(office: Path) -> None:
    path = office / "alerts.yaml"
    edit(path, "  - name: console\n    type: console\n", "  - name: console\n    type: console\n" * 2)
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line_of(path, '  - name: console')}: channels: 渠道名称“console”重复出现（channels[0] 和 channels[1]）"
    )


def test_a_weight_above_ten_is_refused(office: Path, example: OfficeConfig) -> None:
    # rules.yaml says 0～10, and severity scores the nature of a post as weight / 10.
    path = office / "rules.yaml"
    line = edit(path, "    weight: 9\n", "    weight: 99\n", after="  - id: safety-explosion\n")
    index = rule_index(example, "safety-explosion")
    error = load_error(office)
    assert str(error) == f"{path}:{line}: rules[{index}].weight: 不能大于 10，收到整数 99"


def test_an_unknown_scope_in_a_rule_is_refused(office: Path, example: OfficeConfig) -> None:
    path = office / "rules.yaml"
    line = edit(path, "expr: 'title:(警情通报", "expr: 'body:(警情通报")
    index = rule_index(example, "emergency-police-notice")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", f"rules[{index}].expr")
    assert error.reason == (
        "规则 emergency-police-notice 第 1 个字符处：没有 body: 这个范围，可用的范围有 title:、text:、author:、"
        "source:、media:（要找含冒号的文字，请加双引号）"
    )


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("'-演练 -演习'", "第 1 个字符处：不含其中任何一个词的帖子也算命中"),
        ("'title:(警情通报|情况通报) | -演练'", "第 1 个字符处：不含其中任何一个词的帖子也算命中"),
        ("'*'", "第 1 个字符处：“*”里没有文字或数字，这里没有通配符"),
        ("'title:(警情通报|的)'", "第 13 个字符处：只出现单个字“的”就算命中"),
    ],
)
def test_a_rule_that_matches_nearly_every_post_is_refused(
    office: Path, example: OfficeConfig, expr: str, why: str
) -> None:
    path = office / "rules.yaml"
    line = edit(path, "'title:(警情通报|情况通报|情况说明|事故通报)'", expr)
    index = rule_index(example, "emergency-police-notice")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", f"rules[{index}].expr")
    assert error.reason.startswith(f"规则 emergency-police-notice {why}")


def test_a_folder_in_place_of_a_file_is_named_not_a_crash(office: Path) -> None:
    path = office / "severity.yaml"
    path.unlink()
    path.mkdir()
    error = load_error(office)
    assert str(error) == f"{path}: -: 这是一个文件夹，不是文件"


# --- pydantic's own reasons, in Chinese ----------------------------------------------------------------

DELIVERY_BLOCK = (
    "delivery:\n  attempts_per_channel: 3\n  retry_after_seconds: 30\n  dead_after_failures: 3\n"
    "  retry_dead_after_seconds: 600\n  wait_seconds: 90\n"
)
SINA_URLS = "    start_urls:\n      - https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1\n"


@pytest.mark.parametrize(
    ("name", "old", "new", "key", "reason"),
    [
        (
            "alerts.yaml",
            "min_level: 社会热点问题",
            "min_level: 热点",
            "min_level",
            '应为以下之一：一般性事项、社会热点问题、复杂敏感事件、重大突发事态，收到字符串 "热点"',
        ),
        (
            "territory.yaml",
            "    kind: 县\n",
            "    kind: 市\n",
            "counties[1].kind",
            '应为以下之一：县、区、开发区、园区、示范区，收到字符串 "市"',
        ),
        (
            "sources.yaml",
            "    max_pages: 3\n",
            "    max_pages: 0\n",
            "sources[0].max_pages",
            "不能小于 1，收到整数 0",
        ),
        (
            "sources.yaml",
            "    max_pages: 3\n",
            "    max_pages: 2.5\n",
            "sources[0].max_pages",
            "应为整数，不能有小数，收到小数 2.5",
        ),
        (
            "sources.yaml",
            "    max_pages: 3\n",
            "    max_pages: 三\n",
            "sources[0].max_pages",
            '应为整数，收到字符串 "三"',
        ),
        (
            "sources.yaml",
            "    max_pages: 3\n",
            "    max_pages: 3\n    enabled: 也许\n",
            "sources[0].enabled",
            '应为 true 或 false，收到字符串 "也许"',
        ),
        (
            "sources.yaml",
            "    start_urls:\n      - https://feed",
            "    start_urls: []\n    x_urls:\n      - https://feed",
            "sources[0].x_urls",
            "不认识这个键（多半是键名拼错了，或放错了层级）",
        ),
        (
            "units.yaml",
            "  duty: [市网信办值班室]",
            "  duty: 市网信办值班室",
            "city_units.duty",
            '应为列表（每项一行以“- ”开头，或写成 [甲, 乙]），收到字符串 "市网信办值班室"',
        ),
        (
            "alerts.yaml",
            DELIVERY_BLOCK,
            "delivery: 5\n",
            "delivery",
            "应为映射（“键: 值”，每项一行），收到整数 5",
        ),
        (
            "rules.yaml",
            "    name: 突发事件致人死亡\n",
            "    name: [突发, 死亡]\n",
            "rules[0].name",
            "应为字符串，收到列表（2 项）",
        ),
        (
            "schedule.yaml",
            "sweep_minutes: 1",
            "sweep_minutes: 90",
            "sweep_minutes",
            "不能大于 60，收到整数 90",
        ),
        (
            "severity.yaml",
            "  社会热点问题: 35",
            "  热点问题: 35",
            "thresholds.热点问题",
            '键名应为以下之一：一般性事项、社会热点问题、复杂敏感事件、重大突发事态，收到字符串 "热点问题"',
        ),
        (
            "sources.yaml",
            "    max_pages: 3\n",
            "    max_pages: 2026-11-23\n",
            "sources[0].max_pages",
            "应为整数，收到日期 2026-11-23",
        ),
        (
            "alerts.yaml",
            "  growth_percent: 50",
            "  growth_percent: 0",
            "realert.growth_percent",
            "应大于 0，收到整数 0",
        ),
        (
            "sources.yaml",
            SINA_URLS,
            "    start_urls: []\n",
            "sources[0].start_urls",
            "至少要有 1 项，现有 0 项",
        ),
    ],
)
def test_pydantic_reasons_are_said_in_chinese(
    office: Path, name: str, old: str, new: str, key: str, reason: str
) -> None:
    path = office / name
    edit(path, old, new)
    error = load_error(office)
    assert (Path(error.path), error.key, error.reason) == (path, key, reason)


def test_a_channel_option_error_is_said_in_chinese(office: Path) -> None:
    path = office / "alerts.yaml"
    edit(
        path,
        "  - name: console\n    type: console\n",
        "  - name: console\n    type: console\n  - name: bot\n    type: dingtalk\n    options:\n"
        "      url_env: yuqing_url\n",
    )
    error = load_error(office)
    assert error.key == "channels[1].options"
    assert error.reason == (
        'url_env: 应为环境变量名（大写字母、数字和下划线，如 YUQING_SMTP_PASSWORD），收到字符串 "yuqing_url"'
    )


def test_a_spider_option_error_is_said_in_chinese(office: Path) -> None:
    path = office / "sources.yaml"
    edit(path, "      forums:", "      forum:")
    error = load_error(office)
    assert error.reason.startswith("forum: 不认识这个键")
