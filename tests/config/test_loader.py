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
    assert vertical == {"生态环境", "自然资源", "税务", "消防"}
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
    assert str(error) == f"{path}:{line}: -: YAML syntax: found character '\\t' that cannot start any token"


def test_missing_required_key(office: Path) -> None:
    path = office / "territory.yaml"
    edit(path, "    gov_office: 范县政府办\n", "")
    error = load_error(office)
    assert str(error) == f"{path}:{line_of(path, '  - name: 范县')}: counties[4].gov_office: Field required"


def test_wrong_type(office: Path, example: OfficeConfig) -> None:
    path = office / "rules.yaml"
    line = edit(path, "    weight: 9\n", "    weight: 很高\n", after="  - id: safety-explosion\n")
    index = rule_index(example, "safety-explosion")
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line}: rules[{index}].weight: Input should be a valid number, unable to parse string as a number"
    )


def test_unknown_key_is_named_where_it_is(office: Path) -> None:
    path = office / "rules.yaml"
    line = edit(path, "    min_level: 重大突发事态\n", "    min_levle: 重大突发事态\n")
    error = load_error(office)
    assert str(error) == f"{path}:{line}: rules[0].min_levle: Extra inputs are not permitted"


def test_mistyped_required_key_points_at_the_typo_not_the_missing_key(office: Path) -> None:
    path = office / "units.yaml"
    line = edit(path, "    keywords: [排污", "    keyword: [排污")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", "departments[0].keyword")
    assert error.reason == "Extra inputs are not permitted"


def test_county_unit_without_placeholder(office: Path, example: OfficeConfig) -> None:
    path = office / "units.yaml"
    line = edit(path, 'county_unit: "{county}教育局"', "county_unit: 县教育局")
    index = topic_index(example, "教育")
    error = load_error(office)
    assert (
        str(error) == f"{path}:{line}: departments[{index}].county_unit: Value error, must contain {{county}}"
    )


def test_duplicated_rule_id(office: Path, example: OfficeConfig) -> None:
    path = office / "rules.yaml"
    edit(path, "  - id: safety-gas\n", "  - id: safety-explosion\n")
    first, second = rule_index(example, "safety-explosion"), rule_index(example, "safety-gas")
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line_of(path, '  - id: ')}: rules: Value error, rule id 'safety-explosion' is used twice"
        f" (rules[{first}] and rules[{second}])"
    )


def test_duplicated_department_topic(office: Path, example: OfficeConfig) -> None:
    path = office / "units.yaml"
    edit(path, "  - topic: 水利\n", "  - topic: 教育\n")
    first, second = topic_index(example, "教育"), topic_index(example, "水利")
    error = load_error(office)
    assert error.key == "departments"
    assert error.reason == (
        f"Value error, department topic '教育' is listed twice (departments[{first}] and departments[{second}])"
    )


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("'拆迁 NEAR/20 (强拆|暴力|打人|殴打'", "'(' is never closed"),
        ("'拆迁 NEAR/20 (强拆|暴力))'", "unbalanced ')'"),
        ("'拆迁 NEAR/20'", "expression ends where a term is expected"),
        ("'拆迁 |'", "expression ends where a term is expected"),
    ],
)
def test_bad_rule_expression(office: Path, example: OfficeConfig, broken: str, reason: str) -> None:
    path = office / "rules.yaml"
    line = edit(path, "'拆迁 NEAR/20 (强拆|暴力|打人|殴打)'", broken)
    index = rule_index(example, "legal-forced-demolition")
    error = load_error(office)
    assert (error.file, error.key) == (f"{path}:{line}", f"rules[{index}].expr")
    assert error.reason.startswith("rule 'legal-forced-demolition': at character ")
    assert error.reason.endswith(reason)
    assert str(error).startswith(f"{path}:{line}: rules[{index}].expr: rule 'legal-forced-demolition'")


def test_missing_file(office: Path) -> None:
    path = office / "alerts.yaml"
    path.unlink()
    error = load_error(office)
    assert str(error) == f"{path}: -: file not found"


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
    assert str(error) == f"{path}:{line}: -: not UTF-8 text; save the file as UTF-8"


def test_unquoted_time_is_caught_with_a_hint(office: Path) -> None:
    path = office / "schedule.yaml"
    line = edit(path, '  afternoon: "14:30"', "  afternoon: 14:30")  # YAML reads this as the number 870
    error = load_error(office)
    assert str(error) == (
        f'{path}:{line}: checkpoints.afternoon: Value error, must be a time of day in quotes, like "08:30", not 870'
    )


def test_weights_that_do_not_add_up_to_one(office: Path) -> None:
    path = office / "severity.yaml"
    edit(path, "  nature: 0.35", "  nature: 0.45")
    error = load_error(office)
    assert (
        str(error)
        == f"{path}:{line_of(path, '  nature:')}: weights: Value error, weights must add up to 1, not 1.1"
    )


def test_thresholds_that_do_not_rise(office: Path) -> None:
    path = office / "severity.yaml"
    edit(path, "  复杂敏感事件: 60", "  复杂敏感事件: 90")
    error = load_error(office)
    assert error.file == f"{path}:{line_of(path, '  一般性事项:')}"
    assert (error.key, error.reason) == (
        "thresholds",
        "Value error, thresholds must rise from 一般性事项 to 重大突发事态",
    )


def test_recipient_on_a_channel_that_does_not_exist(office: Path) -> None:
    path = office / "alerts.yaml"
    line = edit(path, "recipients: {}", "recipients:\n  市委宣传部: [consle]") + 1
    error = load_error(office)
    assert str(error) == (
        f"{path}:{line}: recipients: Value error, 市委宣传部: no channel is named 'consle' (channels: console)"
    )


def test_one_place_name_for_two_counties(office: Path) -> None:
    path = office / "territory.yaml"
    edit(path, "aliases: [南乐]", "aliases: [清丰]")
    error = load_error(office)
    assert error.key == "counties"
    assert error.reason == "Value error, place name '清丰' is given to both 清丰县 and 南乐县"


def test_empty_file(office: Path) -> None:
    path = office / "units.yaml"
    path.write_text("# 还没写\n", encoding="utf-8")
    error = load_error(office)
    assert str(error) == f"{path}: -: expected a mapping at the top level"


def test_a_key_without_its_colon_is_named_on_its_own_line(office: Path) -> None:
    path = office / "severity.yaml"
    line = edit(path, "  社会热点问题: 35", "  社会热点问题 35")
    error = load_error(office)
    assert str(error) == f"{path}:{line}: -: YAML syntax: could not find expected ':'"


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
