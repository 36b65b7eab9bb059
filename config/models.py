"""Typed models of the YAML files an office edits. The rest of the code receives these, never raw dicts."""

from __future__ import annotations

import codecs
import difflib
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from classifiers.types import Level
from config.channels import check_channel_options
from config.delivery import DeliveryPolicy, RealertPolicy
from config.errors import describe_value, explain


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


def _require_unique(values: list[str], what: str, field: str) -> None:
    """Raise naming the first repeated value and both of its positions in `field`."""
    if pair := _repeated(values):
        first, second = pair
        raise ValueError(f"{what}“{values[second]}”重复出现（{field}[{first}] 和 {field}[{second}]）")


# sources.yaml -----------------------------------------------------------------------------------------

Word = Annotated[str, Field(min_length=1, pattern=r"\S")]


class WeiboOptions(Model):
    """What both Weibo spiders read: whose comments to fetch, and how much state to keep."""

    # A post's comments are read when it mentions one of these and has at least `comments_min` comments.
    comment_keywords: list[Word] | None = None
    comments_min: int = Field(default=100, ge=0)
    comment_pages: int = Field(default=2, ge=0, le=50)
    state_limit: int = Field(default=5000, ge=100)


class WeiboSearchOptions(WeiboOptions):
    """`options` of a `weibo_search` source; `comment_keywords` defaults to `keywords`."""

    keywords: list[Word] = Field(min_length=1)


class WeiboAccount(Model):
    uid: str = Field(pattern=r"^[0-9]{5,12}$")
    name: str = ""


class WeiboTimelineOptions(WeiboOptions):
    """`options` of a `weibo_timeline` source: the accounts whose posts are read."""

    accounts: list[WeiboAccount] = Field(min_length=1)


def _as_tuple(value: object) -> object:
    # One selector or a list of them; YAML authors write whichever reads better.
    return (value,) if isinstance(value, str) else value


def _selector(value: str) -> str:
    """CSS (with parsel's ::text and ::attr()), or XPath when it starts with / ( or ./ — checked here so a
    typo fails when sources.yaml is loaded, not in the middle of a patrol."""
    from cssselect import SelectorError
    from lxml import etree
    from parsel.csstranslator import css2xpath

    text = value.strip()
    if not text:
        raise ValueError("选择器是空的")
    try:
        if text.startswith(("/", "(", "./", "../")):
            etree.XPath(text)
        else:
            css2xpath(text)
    except (SelectorError, etree.XPathError) as exc:
        raise ValueError(f"不是有效的选择器（CSS 或以 / 开头的 XPath）：{text}（{exc}）") from None
    return text


Selector = Annotated[str, AfterValidator(_selector)]
Selectors = Annotated[tuple[Selector, ...], BeforeValidator(_as_tuple)]

# A list that prints "11-23" gives no year; the spider takes the patrol's (the one before, for a future date).
_DATE_PARTS = (("月", ("%m", "%b", "%B")), ("日", ("%d",)))


def _date_format(value: str) -> str:
    for part, codes in _DATE_PARTS:
        if not any(code in value for code in codes):
            raise ValueError(f"日期格式 {value} 里没有{part}（{' 或 '.join(codes)}）")
    sample = datetime(2026, 11, 23, 8, 5, 9)
    full = value if "%Y" in value or "%y" in value else f"%Y {value}"
    try:
        datetime.strptime(sample.strftime(full), full)
    except ValueError as exc:
        raise ValueError(f"日期格式 {value} 写出的日期无法按它读回：{exc}") from None
    return value


DateFormat = Annotated[str, AfterValidator(_date_format)]


class ListFields(Model):
    """Where each field of a list entry is, relative to the entry; each a selector or a list tried in order."""

    url: Selectors = ("a::attr(href)",)
    title: Selectors = ("a::attr(title)", "a::text")
    date: Selectors = ()
    author: Selectors = ()
    summary: Selectors = ()


class ArticleSelectors(Model):
    """Where an article page keeps its body (and, when the list lacks them, title, date and author).
    Without `body` the page is read by the generic reader (the densest block of prose)."""

    body: Selectors = ()
    title: Selectors = ()
    date: Selectors = ()
    author: Selectors = ()
    drop: Selectors = ()  # inside the body but not part of it: share bars, QR codes, print buttons


class SiteRuleConfig(Model):
    """A site the generic reader gets wrong, read with selectors instead: `site_rules` in sources.yaml."""

    name: str = Field(min_length=1)
    hosts: list[str] = Field(min_length=1)  # the host or any of its subdomains
    body: Selectors = Field(min_length=1)
    title: Selectors = ()
    time: Selectors = ()
    author: Selectors = ()
    drop: Selectors = ()
    date_formats: list[DateFormat] = Field(default_factory=list)

    @field_validator("hosts")
    @classmethod
    def _bare_hosts(cls, hosts: list[str]) -> list[str]:
        cleaned = []
        for host in hosts:
            bare = host.strip().lower()
            if not bare or "/" in bare or " " in bare or bare.startswith("."):
                raise ValueError(f"「{host}」不是网站域名：只写域名，如 www.puyang.gov.cn 或 puyang.gov.cn")
            cleaned.append(bare)
        return cleaned

    def covers(self, host: str) -> bool:
        return any(host == h or host.endswith(f".{h}") for h in self.hosts)


class Pagination(Model):
    """The next list page: a link to follow (`next_page`), or a URL template with `{page}` (`page_url`)."""

    next_page: Selector | None = None
    page_url: str | None = None
    page_start: int = Field(default=2, ge=0)  # the number `{page}` takes on the second list page

    @field_validator("page_url")
    @classmethod
    def _has_page(cls, value: str | None) -> str | None:
        if value is not None and "{page}" not in value:
            raise ValueError("要含有 {page}，如 index_{page}.html")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> Pagination:
        if (self.next_page is None) == (self.page_url is None):
            raise ValueError(
                "next_page（下一页链接的选择器）和 page_url（含 {page} 的网址模板）要写其中一个，且只写一个"
            )
        return self


class GenericSiteOptions(Model):
    """`options` of a `generic` source: a list page read with selectors, so adding a site needs no code.

    `items` selects each entry of the list; `container`, when given, tells an empty list (the container is
    there without entries) from a changed layout (the container is gone).
    """

    items: Selector
    container: Selector | None = None
    fields: ListFields = Field(default_factory=ListFields)
    date_formats: list[DateFormat] = Field(default_factory=list)
    pagination: Pagination | None = None
    article: ArticleSelectors | None = None
    encoding: str | None = None
    media: str | None = None
    author_kind: Literal["official_media", "government", "verified", "ordinary", "unknown"] = "unknown"
    state_limit: int = Field(default=2000, ge=100)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"不认识的编码 {value}（可写 utf-8、gbk、gb18030 等）") from None
        return value


class TiebaOptions(Model):
    """`options` of a `tieba` source: the 吧 to patrol, the words to search for in each, and how deep to read."""

    forums: list[Word] = Field(min_length=1)  # as Tieba names them, with or without the trailing 吧
    search_words: list[Word] = Field(default_factory=list)
    # Pages read of one thread per patrol: the first (the thread itself) and the newest ones.
    thread_pages: int = Field(default=3, ge=1, le=50)
    # Pages of 楼中楼 replies read under one floor beyond the first ten that come with the thread page.
    reply_pages: int = Field(default=2, ge=0, le=50)
    state_limit: int = Field(default=20000, ge=100)

    @field_validator("forums")
    @classmethod
    def _unique_forums(cls, forums: list[str]) -> list[str]:
        names = [name.strip().removesuffix("吧") or name.strip() for name in forums]
        _require_unique(names, "贴吧", "forums")
        return forums


class WeixinSogouOptions(Model):
    """`options` of a `weixin_sogou` source: what to search for among 微信公众号 articles."""

    queries: list[Word] = Field(min_length=1)
    state_limit: int = Field(default=5000, ge=100)


# Every spider a source may name: the `name` of each spider under spiders/ (a test keeps the two equal).
# Listed here because config/ may not import spiders/, and a misspelt spider must fail when sources.yaml
# is loaded rather than when its crawl starts.
SPIDERS: tuple[str, ...] = (
    "generic",
    "ifeng_news",
    "netease_news",
    "people_liuyan",
    "people_news",
    "sina_news",
    "sohu_news",
    "tieba",
    "weibo_search",
    "weibo_timeline",
    "weixin_sogou",
)

# Spiders whose `options` have a fixed shape, checked when sources.yaml is loaded.
SPIDER_OPTIONS: dict[str, type[Model]] = {
    "tieba": TiebaOptions,
    "weixin_sogou": WeixinSogouOptions,
    "weibo_search": WeiboSearchOptions,
    "generic": GenericSiteOptions,
    "weibo_timeline": WeiboTimelineOptions,
}


class SourceConfig(Model):
    """One crawl target. `spider` names the spider; `start_urls` and `options` are what it reads."""

    name: str
    spider: str
    # The Chinese name people read in `patrol`, `doctor` and alerts; the built-in spiders have their own.
    label: str | None = Field(default=None, min_length=1)
    enabled: bool = True
    start_urls: list[str] = Field(min_length=1)
    max_pages: int = Field(default=3, ge=1, le=1000)
    max_age_hours: int = Field(default=72, ge=1)
    download_delay: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    robots_obey: bool = False
    retries: int | None = Field(default=None, ge=0, le=10)  # None: RETRY_TIMES of config/settings.py
    # The name of the environment variable holding the proxy URL (it may carry a password, so never here).
    proxy_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    render: bool = False  # fetch through the system Chromium, for pages that build their content in JS
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("spider")
    @classmethod
    def _known_spider(cls, spider: str) -> str:
        if spider not in SPIDERS:
            close = difflib.get_close_matches(spider, SPIDERS, n=1)
            hint = f"，是不是 {close[0]}？" if close else ""
            raise ValueError(f"没有名为“{spider}”的爬虫{hint}（可用的有：{'、'.join(SPIDERS)}）")
        return spider

    @field_validator("options")
    @classmethod
    def _options_of_the_spider(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = SPIDER_OPTIONS.get(info.data.get("spider", ""))
        if model is not None:
            try:
                model.model_validate(options)
            except ValidationError as exc:
                error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
                loc = [part for part in error["loc"] if part != "[key]"]
                key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
                # A custom error keeps pydantic from prefixing "Value error, " to the key it names.
                raise PydanticCustomError(
                    "spider_options", "{key}: {msg}", {"key": key.lstrip(".") or "-", "msg": explain(error)}
                ) from None
        return options


class SourcesFile(Model):
    sources: list[SourceConfig]
    site_rules: list[SiteRuleConfig] = Field(default_factory=list)

    @field_validator("site_rules")
    @classmethod
    def _unique_rules(cls, rules: list[SiteRuleConfig]) -> list[SiteRuleConfig]:
        _require_unique([r.name for r in rules], "网站规则名称", "site_rules")
        return rules

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        _require_unique([s.name for s in sources], "信息源名称", "sources")
        return sources


# rules.yaml -------------------------------------------------------------------------------------------


class RuleConfig(Model):
    """A keyword rule as analysts write it: a boolean expression, a category and a weight."""

    id: str
    name: str
    category: str
    expr: str
    weight: float = Field(default=1.0, ge=0, le=10)  # 0..10, as classifiers.severity reads it
    min_level: Level | None = None


class RulesFile(Model):
    rules: list[RuleConfig]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[RuleConfig]) -> list[RuleConfig]:
        _require_unique([r.id for r in rules], "规则编号", "rules")
        return rules


# territory.yaml ---------------------------------------------------------------------------------------


class County(Model):
    """A county, district or development zone: the unit of 属地管理 below the city."""

    name: str
    kind: Literal["县", "区", "开发区", "园区", "示范区"]
    aliases: list[str] = Field(default_factory=list)
    townships: list[str] = Field(default_factory=list)
    # Where its tile sits on the dashboard's schematic map: [column, row], north up (no boundary data needed).
    tile: tuple[int, int] | None = None
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
                    raise ValueError(f"地名“{name}”同时给了{owner[name]}和{county.name}")
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
    # Words that alone name this line of work and put it before broader ones (食堂 → 市场监管, not 教育).
    decisive: list[str] = Field(default_factory=list)

    @field_validator("county_unit")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{county}" not in value:
            raise ValueError("要含有 {county}（代表县区名称），如 {county}教育局")
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
        _require_unique([d.topic for d in departments], "主管领域", "departments")
        return departments


def unit_names(units: UnitsFile, territory: TerritoryFile) -> dict[str, str]:
    """Every unit an alert may be addressed to, spelt as the routing spells it (alerts/routing.py), with the
    file that defines it, in a stable order: the city units by role, each department's city unit (and its
    办公室 for a vertical one), then each county's 宣传部 and 政府办 and each department's unit there."""
    city = units.city_units
    found: dict[str, str] = {}
    for name in (*city.duty, city.cyberspace, city.propaganda, city.gov_office, city.principal):
        found.setdefault(name, "units.yaml")
    found.setdefault(city.party_committee, "units.yaml")
    for department in units.departments:
        found.setdefault(department.city_unit, "units.yaml")
        if department.vertical:
            found.setdefault(f"{department.city_unit}办公室", "units.yaml")
    for county in territory.counties:
        found.setdefault(county.propaganda, "territory.yaml")
        found.setdefault(county.gov_office, "territory.yaml")
        for department in units.departments:
            found.setdefault(department.county_unit.format(county=county.name), "units.yaml")
    return found


# severity.yaml ----------------------------------------------------------------------------------------


Factor = Literal["nature", "intensity", "reaction", "media", "velocity"]
FACTORS: tuple[Factor, ...] = ("nature", "intensity", "reaction", "media", "velocity")


class SeverityFile(Model):
    """Weights of seed 000's factors and the score each level starts at."""

    weights: dict[Factor, float]
    thresholds: dict[Level, float]
    official_media: list[str] = Field(default_factory=list)
    # trained (the default): logistic regression over words and bigrams added to the lexicon's evidence;
    # lexicon: words and Weibo emoticons alone;
    # snownlp: snownlp's product-review model
    sentiment_model: Literal["trained", "lexicon", "snownlp"] = "trained"
    # Weights of the trained model written by `yuqing train sentiment`, relative to the config directory;
    # unset: the weights shipped in classifiers/data.
    sentiment_weights: Path | None = None
    # Characters of title and text analysed (and kept) per post; the rest of a longer one is cut, and said so.
    max_text_chars: int = Field(default=20_000, ge=1_000, le=1_000_000)

    @field_validator("weights")
    @classmethod
    def _complete(cls, weights: dict[Factor, float]) -> dict[Factor, float]:
        # Scores are read against thresholds on 0..100, which holds only when every factor has a weight
        # and the weights add up to 1.
        missing = [factor for factor in FACTORS if factor not in weights]
        if missing:
            raise ValueError(f"缺少这些因素的权重：{'、'.join(missing)}")
        total = sum(weights.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"各项权重之和应为 1，现在是 {total:g}")
        return weights

    @field_validator("thresholds")
    @classmethod
    def _ordered(cls, thresholds: dict[Level, float]) -> dict[Level, float]:
        missing = [level.value for level in Level if level not in thresholds]
        if missing:
            raise ValueError(f"缺少这些级别的起点分数：{'、'.join(missing)}")
        scores = [thresholds[level] for level in Level]
        if scores != sorted(scores):
            raise ValueError("起点分数应从一般性事项到重大突发事态逐级升高")
        return thresholds


# alerts.yaml ------------------------------------------------------------------------------------------


class ChannelConfig(Model):
    name: str
    type: Literal["console", "email", "webhook", "dingtalk", "wecom", "feishu"]
    options: dict[str, Any] = Field(default_factory=dict, validate_default=True)

    @field_validator("options")
    @classmethod
    def _options_of_the_type(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return check_channel_options(info.data.get("type", ""), options)


class SilencePolicy(Model):
    """How far `yuqing silence add` may go: the highest level a silence holds back and its longest
    length. A 重大突发事态 is never held back, whatever this says."""

    max_level: Level = Level.HOT_TOPIC
    max_days: int = 7

    @field_validator("max_level")
    @classmethod
    def _never_emergencies(cls, level: Level) -> Level:
        if level is Level.MAJOR_EMERGENCY:
            raise ValueError(f"静默从不暂缓{Level.MAJOR_EMERGENCY.value}，最高只能写{Level.SENSITIVE.value}")
        return level

    @field_validator("max_days")
    @classmethod
    def _bounded(cls, days: int) -> int:
        # Longer than a month a silence is no longer a pause but switched-off monitoring.
        if not 1 <= days <= 30:
            raise ValueError(f"静默最长天数须在 1 到 30 之间，不能是 {days}")
        return days


class AlertsFile(Model):
    min_level: Level = Level.HOT_TOPIC
    channels: list[ChannelConfig] = Field(
        default_factory=lambda: [ChannelConfig(name="console", type="console")]
    )
    # Tried in order after a unit's own channels fail or are dead (e.g. office mail, then the console).
    fallback: list[str] = Field(default_factory=list)
    # Alerts below this level are not sent one by one but gathered into a digest at each checkpoint.
    digest_below: Level | None = None
    realert: RealertPolicy = Field(default_factory=RealertPolicy)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
    recipients: dict[str, list[str]] = Field(default_factory=dict)
    silences: SilencePolicy = Field(default_factory=SilencePolicy)

    @field_validator("channels")
    @classmethod
    def _unique_channel_names(cls, channels: list[ChannelConfig]) -> list[ChannelConfig]:
        # recipients and fallback name channels; two of one name would leave one of them unreachable.
        _require_unique([channel.name for channel in channels], "渠道名称", "channels")
        return channels

    @field_validator("fallback")
    @classmethod
    def _known_fallbacks(cls, fallback: list[str], info: ValidationInfo) -> list[str]:
        if "channels" in info.data:
            known = [channel.name for channel in info.data["channels"]]
            for name in fallback:
                if name not in known:
                    raise ValueError(f"没有名为“{name}”的渠道（channels 里有：{'、'.join(known)}）")
        return fallback

    @field_validator("recipients")
    @classmethod
    def _known_channels(cls, recipients: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        if "channels" not in info.data:  # the channels themselves are wrong; that error is reported
            return recipients
        known = [channel.name for channel in info.data["channels"]]
        for unit, names in recipients.items():
            for name in names:
                if name not in known:
                    raise ValueError(f"{unit}：没有名为“{name}”的渠道（channels 里有：{'、'.join(known)}）")
        return recipients


# schedule.yaml ----------------------------------------------------------------------------------------


_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


def _clock(value: object) -> object:
    # YAML reads an unquoted 14:30 as the number 870, so a time that is not a string is an error too.
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise ValueError(f'应为加引号的时刻，如 "08:30"，收到{describe_value(value)}')
    return value


Clock = Annotated[str, BeforeValidator(_clock)]


Minutes = Annotated[int, Field(ge=1)]


class Reminders(Model):
    """How many minutes before each deadline the responsible unit is reminded."""

    claim: list[Minutes] = Field(default_factory=lambda: [10])
    first_release: list[Minutes] = Field(default_factory=lambda: [20])
    press_conference: list[Minutes] = Field(default_factory=lambda: [180, 60])
    response: list[Minutes] = Field(default_factory=lambda: [720, 120])


class FollowUp(Model):
    """After a response the event stays watched; resurgence reopens it (回应—演化—新回应—再演化)."""

    watch_days: int = Field(default=7, ge=0)
    growth: float = Field(default=0.5, gt=0)
    min_increase: int = Field(default=100, ge=0)


class ScheduleFile(Model):
    checkpoints: dict[Literal["morning", "afternoon", "evening"], Clock]
    work_hours: tuple[Clock, Clock] = ("08:30", "18:00")
    work_interval_minutes: int = Field(default=60, ge=5)
    off_hours_interval_minutes: int = Field(default=120, ge=5)
    night_until: Clock = "24:00"
    claim_min_minutes: int = Field(default=10, ge=0)
    reminders: Reminders = Field(default_factory=Reminders)
    follow_up: FollowUp = Field(default_factory=FollowUp)
    # The latest an approved extension may move a response deadline, in hours after the original one.
    max_extension_hours: int = Field(default=72, ge=1, le=720)
    sweep_minutes: int = Field(default=1, ge=1, le=60)
    daily_log: Clock = "23:50"

    @field_validator("night_until")
    @classmethod
    def _after_work(cls, night_until: str, info: ValidationInfo) -> str:
        # "HH:MM" strings compare in time order; the patrol day runs start of work → end of work → night.
        if "work_hours" in info.data:
            start, end = info.data["work_hours"]
            if not start < end <= night_until:
                raise ValueError(
                    f"上班 {start}、下班 {end}、夜间巡查截止 {night_until}（night_until）应在一天里依次排列"
                )
        return night_until


class OfficeConfig(Model):
    """Everything under config/, loaded and checked once."""

    sources: SourcesFile
    rules: RulesFile
    territory: TerritoryFile
    units: UnitsFile
    severity: SeverityFile
    alerts: AlertsFile
    schedule: ScheduleFile
