"""Typed models of the YAML files an office edits. The rest of the code receives these, never raw dicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.types import Level


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# sources.yaml -----------------------------------------------------------------------------------------


class SourceConfig(Model):
    """One crawl target. `spider` names the spider; `start_urls` and `options` are what it reads."""

    name: str
    spider: str
    enabled: bool = True
    start_urls: list[str] = Field(min_length=1)
    max_pages: int = Field(default=3, ge=1, le=1000)
    max_age_hours: int = Field(default=72, ge=1)
    download_delay: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    options: dict[str, Any] = Field(default_factory=dict)


class SourcesFile(Model):
    sources: list[SourceConfig]

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return self


# rules.yaml -------------------------------------------------------------------------------------------


class RuleConfig(Model):
    """A keyword rule as analysts write it: a boolean expression, a category and a weight."""

    id: str
    name: str
    category: str
    expr: str
    weight: float = Field(default=1.0, ge=0, le=100)
    min_level: Level | None = None


class RulesFile(Model):
    rules: list[RuleConfig]

    @model_validator(mode="after")
    def _unique_ids(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self


# territory.yaml ---------------------------------------------------------------------------------------


class County(Model):
    """A county, district or development zone: the unit of 属地管理 below the city."""

    name: str
    kind: Literal["县", "区", "开发区", "园区", "示范区"]
    aliases: list[str] = Field(default_factory=list)
    townships: list[str] = Field(default_factory=list)
    landmarks: list[str] = Field(default_factory=list)
    gov_office: str
    propaganda: str


class TerritoryFile(Model):
    province: str
    province_aliases: list[str] = Field(default_factory=list)
    city: str
    city_aliases: list[str] = Field(default_factory=list)
    city_landmarks: list[str] = Field(default_factory=list)
    counties: list[County] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> TerritoryFile:
        owner: dict[str, str] = {}
        for county in self.counties:
            for name in [county.name, *county.aliases]:
                if name in owner and owner[name] != county.name:
                    raise ValueError(f"place name {name!r} is given to both {owner[name]} and {county.name}")
                owner[name] = county.name
        return self


# units.yaml -------------------------------------------------------------------------------------------


class Department(Model):
    """A line of work (谁主管): the city department in charge and its county counterpart.

    `county_unit` is a template: `{county}` becomes the county's name. A vertically managed department
    (垂直管理) is coordinated by its upper-level office rather than the county's.
    """

    topic: str
    city_unit: str
    county_unit: str
    vertical: bool = False
    keywords: list[str] = Field(min_length=1)

    @field_validator("county_unit")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{county}" not in value:
            raise ValueError("must contain {county}")
        return value


class CityUnits(Model):
    """The city-level units the seeds name by role."""

    propaganda: str = "市委宣传部"
    gov_office: str = "市政府办"
    cyberspace: str = "市网信办"
    principal: str = "市政府主要负责同志"
    party_committee: str = "市委"
    duty: list[str] = Field(default_factory=lambda: ["市网信办值班室"])


class UnitsFile(Model):
    city_units: CityUnits = Field(default_factory=CityUnits)
    departments: list[Department] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_topics(self) -> UnitsFile:
        topics = [d.topic for d in self.departments]
        for topic in topics:
            if topics.count(topic) > 1:
                raise ValueError(f"department topic {topic!r} is listed twice")
        return self


# severity.yaml ----------------------------------------------------------------------------------------


class SeverityFile(Model):
    """Weights of seed 000's factors and the score each level starts at."""

    weights: dict[Literal["nature", "intensity", "reaction", "media", "velocity"], float]
    thresholds: dict[Level, float]
    official_media: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> SeverityFile:
        missing = [level.value for level in Level if level not in self.thresholds]
        if missing:
            raise ValueError(f"thresholds missing for {', '.join(missing)}")
        scores = [self.thresholds[level] for level in Level]
        if scores != sorted(scores):
            raise ValueError("thresholds must rise from 一般性事项 to 重大突发事态")
        return self


# alerts.yaml ------------------------------------------------------------------------------------------


class ChannelConfig(Model):
    name: str
    type: Literal["console", "email", "webhook", "dingtalk", "wecom", "feishu"]
    options: dict[str, Any] = Field(default_factory=dict)


class AlertsFile(Model):
    min_level: Level = Level.HOT_TOPIC
    channels: list[ChannelConfig] = Field(
        default_factory=lambda: [ChannelConfig(name="console", type="console")]
    )
    recipients: dict[str, list[str]] = Field(default_factory=dict)


# schedule.yaml ----------------------------------------------------------------------------------------


class ScheduleFile(Model):
    checkpoints: dict[Literal["morning", "afternoon", "evening"], str]
    work_hours: tuple[str, str] = ("08:30", "18:00")
    work_interval_minutes: int = Field(default=60, ge=5)
    off_hours_interval_minutes: int = Field(default=120, ge=5)
    night_until: str = "24:00"


class OfficeConfig(Model):
    """Everything under config/, loaded and checked once."""

    sources: SourcesFile
    rules: RulesFile
    territory: TerritoryFile
    units: UnitsFile
    severity: SeverityFile
    alerts: AlertsFile
    schedule: ScheduleFile
