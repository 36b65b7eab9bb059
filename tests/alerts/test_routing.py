"""One test per clause of seed 000 三 and 附件2 第六条, on the shipped 濮阳 configuration."""

import pytest

from alerts.routing import Router
from classifiers.types import Level
from config.loader import load_config


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_config())


def test_city_policy_city_department_is_first_responsible(router: Router) -> None:
    # 对涉及市政府重大政策、重要决策部署的政务舆情，市政府相关部门是第一责任主体。
    # 属于市级部门职责范围的政务舆情，由市政府相关部门按职责分工负责认领。
    decision = router.route([], ["教育"], Level.HOT_TOPIC)
    assert decision.first == ["市教育局"]
    assert decision.claim == ["市教育局"]
    assert "市网信办值班室" in decision.inform


def test_one_county_department_there_first_county_office_and_propaganda_coordinate_and_claim(
    router: Router,
) -> None:
    # 对涉及县(区)的政务舆情，涉事责任部门是第一责任主体，县(区)政府办公室会同宣传部门做好组织协调工作；
    # 由各县(区)宣传部门会同政府办或政府职能部门按职责分工负责认领。
    decision = router.route(["清丰县"], ["人社"], Level.HOT_TOPIC)
    assert decision.first == ["清丰县人力资源和社会保障局"]
    assert decision.coordinate == ["清丰县政府办", "清丰县委宣传部"]
    assert decision.claim == ["清丰县委宣传部", "清丰县政府办"]


def test_one_county_vertically_managed_department_is_coordinated_by_its_upper_office(router: Router) -> None:
    # 涉事责任部门实行垂直管理的，上级部门办公室会同宣传部门做好组织协调工作。
    decision = router.route(["濮阳县"], ["生态环境"], Level.HOT_TOPIC)
    assert decision.first == ["市生态环境局濮阳县分局"]
    assert decision.coordinate[:2] == ["市生态环境局办公室", "市委宣传部"]
    assert any("垂直管理" in reason for reason in decision.reasons)


def test_several_counties_city_department_first_counties_answer_for_their_territory(router: Router) -> None:
    # 对涉及多个县(区)的政务舆情，市政府相关主管部门是第一责任主体，相关县(区)按照属地管理原则进行回应。
    # 涉及多层次的，由市委宣传部门会同市政府办负责认领。
    decision = router.route(["范县", "台前县"], ["水利"], Level.HOT_TOPIC)
    assert decision.first == ["市水利局"]
    assert {"范县政府办", "台前县政府办"} <= set(decision.inform)
    assert decision.claim == ["市委宣传部", "市政府办"]


def test_several_departments_each_answers_and_the_level_office_coordinates(router: Router) -> None:
    # 对涉及多个部门的政务舆情，相关部门按照职责分工做好回应工作，本级政府办公室会同宣传部门做好组织协调。
    decision = router.route(["南乐县"], ["住建", "人社"], Level.HOT_TOPIC)
    assert decision.first == ["南乐县住房和城乡建设局", "南乐县人力资源和社会保障局"]
    assert {"南乐县政府办", "南乐县委宣传部"} <= set(decision.coordinate)
    assert any("涉及多个部门" in reason and "必要时确定牵头部门" in reason for reason in decision.reasons)


def test_especially_major_principal_leads_and_party_committee_is_told(router: Router) -> None:
    # 对特别重大的政务舆情，本级政府主要负责同志要切实负起领导责任……同时应向同级党委报告。
    decision = router.route(["范县"], ["交通运输"], Level.MAJOR_EMERGENCY)
    assert "市政府主要负责同志" in decision.coordinate
    assert "市委" in decision.inform
    assert any("向市委报告" in reason for reason in decision.reasons)


def test_city_government_matter_without_a_department_is_claimed_by_propaganda_and_office(
    router: Router,
) -> None:
    # 涉及市政府以及多层次、多部门的政务舆情，由市委宣传部门会同市政府办负责认领。
    decision = router.route([], [], Level.HOT_TOPIC)
    assert decision.claim == ["市委宣传部", "市政府办"]


def test_a_post_outside_the_city_only_informs_duty_staff(router: Router) -> None:
    decision = router.route([], ["教育"], Level.SENSITIVE, local=False)
    assert decision.first == []
    assert decision.claim == []
    assert decision.inform == ["市网信办值班室"]
