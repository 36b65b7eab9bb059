"""Typed models of the YAML files an office edits. The rest of the code receives these, never raw dicts."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from classifiers.types import Level


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Checks across the items of a list are field validators of that list, not model validators, so that the
# error names the key (`rules`) and its line rather than the whole file.


def _repeated(values: list[str]) -> tuple[int, int] | None:
    """The positions of the first value that occurs twice, or None."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in first:
            return first[value], i
        first[value] = i
    return None


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

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        if pair := _repeated([s.name for s in sources]):
            first, second = pair
            raise ValueError(
                f"source name {sources[second].name!r} is used twice (sources[{first}] and sources[{second}])"
            )
        return sources


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

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[RuleConfig]) -> list[RuleConfig]:
        if pair := _repeated([r.id for r in rules]):
            first, second = pair
            raise ValueError(
                f"rule id {rules[second].id!r} is used twice (rules[{first}] and rules[{second}])"
            )
        return rules


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

    @field_validator("counties")
    @classmethod
    def _unique_names(cls, counties: list[County]) -> list[County]:
        owner: dict[str, str] = {}
        for county in counties:
            for name in [county.name, *county.aliases]:
                if name in owner and owner[name] != county.name:
                    raise ValueError(f"place name {name!r} is given to both {owner[name]} and {county.name}")
                owner[name] = county.name
        return counties


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

    @field_validator("departments")
    @classmethod
    def _unique_topics(cls, departments: list[Department]) -> list[Department]:
        if pair := _repeated([d.topic for d in departments]):
            first, second = pair
            raise ValueError(
                f"department topic {departments[second].topic!r} is listed twice"
                f" (departments[{first}] and departments[{second}])"
            )
        return departments


# severity.yaml ----------------------------------------------------------------------------------------


Factor = Literal["nature", "intensity", "reaction", "media", "velocity"]
FACTORS: tuple[Factor, ...] = ("nature", "intensity", "reaction", "media", "velocity")


class SeverityFile(Model):
    """Weights of seed 000's factors and the score each level starts at."""

    weights: dict[Factor, float]
    thresholds: dict[Level, float]
    official_media: list[str] = Field(default_factory=list)

    @field_validator("weights")
    @classmethod
    def _complete(cls, weights: dict[Factor, float]) -> dict[Factor, float]:
        # Scores are read against thresholds on 0..100, which holds only when every factor has a weight
        # and the weights add up to 1.
        missing = [factor for factor in FACTORS if factor not in weights]
        if missing:
            raise ValueError(f"weights missing for {', '.join(missing)}")
        total = sum(weights.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights must add up to 1, not {total:g}")
        return weights

    @field_validator("thresholds")
    @classmethod
    def _ordered(cls, thresholds: dict[Level, float]) -> dict[Level, float]:
        missing = [level.value for level in Level if level not in thresholds]
        if missing:
            raise ValueError(f"thresholds missing for {', '.join(missing)}")
        scores = [thresholds[level] for level in Level]
        if scores != sorted(scores):
            raise ValueError("thresholds must rise from 一般性事项 to 重大突发事态")
        return thresholds


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

    @field_validator("recipients")
    @classmethod
    def _known_channels(cls, recipients: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        if "channels" not in info.data:  # the channels themselves are wrong; that error is reported
            return recipients
        known = [channel.name for channel in info.data["channels"]]
        for unit, names in recipients.items():
            for name in names:
                if name not in known:
                    raise ValueError(f"{unit}: no channel is named {name!r} (channels: {', '.join(known)})")
        return recipients


# schedule.yaml ----------------------------------------------------------------------------------------


_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


def _clock(value: object) -> object:
    # YAML reads an unquoted 14:30 as the number 870, so a time that is not a string is an error too.
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise ValueError(f'must be a time of day in quotes, like "08:30", not {value!r}')
    return value


Clock = Annotated[str, BeforeValidator(_clock)]


class ScheduleFile(Model):
    checkpoints: dict[Literal["morning", "afternoon", "evening"], Clock]
    work_hours: tuple[Clock, Clock] = ("08:30", "18:00")
    work_interval_minutes: int = Field(default=60, ge=5)
    off_hours_interval_minutes: int = Field(default=120, ge=5)
    night_until: Clock = "24:00"


class OfficeConfig(Model):
    """Everything under config/, loaded and checked once."""

    sources: SourcesFile
    rules: RulesFile
    territory: TerritoryFile
    units: UnitsFile
    severity: SeverityFile
    alerts: AlertsFile
    schedule: ScheduleFile
