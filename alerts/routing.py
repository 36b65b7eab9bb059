"""Who answers for a post: 属地管理、分级负责、谁主管谁负责 (seed 000 三; 附件2 第六条).

`route` is a pure function of where an event is (its counties), what it is about (department topics)
and how serious it is, over the units in config/units.yaml and config/territory.yaml. Every decision
carries the clause it applies. The route stage (pipeline/stages/route.py) is its one caller in the flow:
it routes after the event stage, on the event's final level, so a rise in level reaches that level's units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.types import Level
from config.models import County, Department, OfficeConfig


# One per post: its `__init__` is written out, to be compiled with this module (classifiers/native.py).
@dataclass(slots=True, init=False)
class RouteDecision:
    first: list[str]
    coordinate: list[str]
    claim: list[str]
    inform: list[str]
    reasons: list[str]

    def __init__(self) -> None:
        self.first, self.coordinate, self.claim, self.inform, self.reasons = [], [], [], [], []

    def add(self, role: str, *units: str) -> None:
        target: list[str] = getattr(self, role)
        for unit in units:
            if unit not in target:
                target.append(unit)


class Router:
    def __init__(self, office: OfficeConfig) -> None:
        self.city = office.units.city_units
        self.city_name = office.territory.city
        self.counties = {c.name: c for c in office.territory.counties}
        self.departments = {d.topic: d for d in office.units.departments}

    def county_unit(self, department: Department, county: County) -> str:
        return department.county_unit.format(county=county.name)

    def route(
        self, counties: Sequence[str], topics: Sequence[str], level: Level, *, local: bool = True
    ) -> RouteDecision:
        decision = RouteDecision()
        city = self.city
        decision.add("inform", *city.duty)
        if not local:
            decision.reasons.append("未涉及本市，仅供值班人员参考")
            return decision
        known = [self.counties[c] for c in counties if c in self.counties]
        departments = [self.departments[t] for t in topics if t in self.departments]

        if len(known) == 1:
            self._one_county(decision, known[0], departments)
        elif len(known) > 1:
            self._several_counties(decision, known, departments)
        else:
            self._city_level(decision, departments)

        if len(departments) > 1:
            names = "、".join(d.topic for d in departments)
            decision.reasons.append(
                f"涉及多个部门({names})：各部门按职责分工回应，本级政府办会同宣传部门组织协调，必要时确定牵头部门"
            )

        if level is Level.MAJOR_EMERGENCY:
            decision.add("coordinate", city.principal)
            decision.add("inform", city.party_committee, city.propaganda, city.gov_office, city.cyberspace)
            decision.reasons.append(
                f"特别重大：{city.principal}负责领导、指导、协调，并向{city.party_committee}报告"
            )
        elif level is Level.SENSITIVE:
            decision.add("inform", city.propaganda, city.gov_office)
            decision.reasons.append(
                "重大敏感舆情：涉事部门与市委宣传部门、市政府办核实衔接，由市委宣传部门统筹报送市领导"
            )
        return decision

    def _one_county(self, decision: RouteDecision, county: County, departments: list[Department]) -> None:
        city = self.city
        if departments:
            for dept in departments:
                decision.add("first", self.county_unit(dept, county))
                if dept.vertical:
                    decision.add("coordinate", f"{dept.city_unit}办公室", city.propaganda)
                    decision.reasons.append(
                        f"涉及{county.name}，{dept.topic}实行垂直管理：{self.county_unit(dept, county)}为第一责任主体，"
                        f"上级部门办公室会同宣传部门组织协调"
                    )
                else:
                    decision.reasons.append(
                        f"涉及{county.name}：涉事责任部门{self.county_unit(dept, county)}为第一责任主体"
                    )
        else:
            decision.add("first", county.gov_office)
            decision.reasons.append(f"涉及{county.name}，未识别主管部门：由{county.gov_office}先行承办")
        decision.add("coordinate", county.gov_office, county.propaganda)
        decision.add("claim", county.propaganda, county.gov_office)
        decision.reasons.append(f"属地管理：{county.propaganda}会同{county.gov_office}组织协调并认领")

    def _several_counties(
        self, decision: RouteDecision, counties: list[County], departments: list[Department]
    ) -> None:
        city = self.city
        names = "、".join(c.name for c in counties)
        if departments:
            for dept in departments:
                decision.add("first", dept.city_unit)
            decision.reasons.append(f"涉及多个县(区)({names})：市政府相关主管部门为第一责任主体")
        else:
            decision.add("first", city.gov_office)
            decision.reasons.append(f"涉及多个县(区)({names})，未识别主管部门：由{city.gov_office}先行承办")
        for county in counties:
            decision.add("inform", county.gov_office)
        decision.reasons.append("相关县(区)按照属地管理原则回应")
        decision.add("coordinate", city.propaganda, city.gov_office)
        decision.add("claim", city.propaganda, city.gov_office)
        decision.reasons.append(f"多层次舆情：{city.propaganda}会同{city.gov_office}负责认领")

    def _city_level(self, decision: RouteDecision, departments: list[Department]) -> None:
        city = self.city
        if departments:
            for dept in departments:
                decision.add("first", dept.city_unit)
                decision.add("claim", dept.city_unit)
            decision.reasons.append(
                f"涉及{self.city_name}市级层面：市政府相关部门为第一责任主体，按职责分工认领"
            )
            if len(departments) > 1:
                decision.add("claim", city.propaganda, city.gov_office)
        else:
            decision.add("first", city.gov_office)
            decision.add("claim", city.propaganda, city.gov_office)
            decision.reasons.append(
                f"涉及市政府、未识别主管部门：由{city.propaganda}会同{city.gov_office}负责认领"
            )
        decision.add("coordinate", city.propaganda, city.gov_office)
