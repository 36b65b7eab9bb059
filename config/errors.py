"""The root of the project's errors, the errors of what an office edits, and their reasons in its words.
Lives in `config` so every layer above can use it.

Every error raised on purpose is a `YuqingError`, caught at the edges (the CLI, serve, a stage adapter) and
turned into one Chinese message and a counted event:

YuqingError
├── ConfigError(file, key, reason)        config.errors: a file an office edits cannot be used
├── DatabaseError(path, message)          config.databases: a database file that cannot be used as asked
│   ├── DatabaseDamaged                   not a database, or corrupt: restore from backup
│   ├── DatabaseReadOnly                  a write asked of a read-only file
│   └── StorageFull                       the disk is full
├── ClockError                            pipeline.clock: YUQING_NOW is not a time
├── BrowserMissing                        pipeline.browser: no usable Chromium for rendered sources
├── SourceError(source, reason)           pipeline.errors: a site refused or failed us
│   └── SourceBlocked                     login wall, captcha, 403/418/429
│       └── WeiboBlocked                  spiders.base.weibo
├── StoreError                            pipeline.errors: the post store failed a request
│   └── StoreUnavailable                  the node is down: spool and replay
├── ExtractError                          spiders.parsing.extract: a page with no article to read
├── OutboxBusy                            alerts.database: another process is sending from the alerts database
├── Refused                               alerts.accounts: an action the rules forbid
│   ├── AccountError                      an account that cannot be created, found or used as asked
│   └── WorkflowError                     alerts.cases: names the case and the rule
├── SilenceError                          alerts.silences: a silence that may not be set
├── DeliveryError                         alerts.channels.base: a message could not be delivered
│   └── ChannelUnavailable                a channel cannot be built here (its webhook variable is unset)
└── DemoMissing, AlreadyServing, LeadershipLost     commands: the entry points' own refusals

What a parser meets in one page, answer or line (`ListError`, `PageError`, `WeiboAnswerError`, `RollError`,
`AllDataError`, `InvalidPost`, `BadLine`, `ReplayIndexError`) and what a rule or lexicon file holds wrong
(`classifiers.rules.RuleError`, `classifiers.sentiment_lexicon.LexiconError`) are `ValueError`s instead:
caught where they arise, counted per source under their reason and logged, losing that item only; a rule's
error reaches people as the `ConfigError` config.loader makes of it. `classifiers` stays free of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


class YuqingError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(YuqingError):
    """A config file that cannot be used: names the file, the key and what is wrong, on one line."""

    def __init__(self, file: str, key: str, reason: str, kind: str = "") -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file = file
        self.key = key
        self.reason = reason
        # What sort of mistake it is (pydantic's error type, or `yaml`, `file`, `encoding`, `rule`,
        # `duplicate_key`, `unknown_unit`), so a message to people can say it in their words; "" when not known.
        self.kind = kind

    @property
    def path(self) -> str:
        """The file without the line number `file` may end with."""
        head, _, tail = self.file.rpartition(":")
        return head if head and tail.isdigit() else self.file

    @property
    def line(self) -> int | None:
        head, _, tail = self.file.rpartition(":")
        return int(tail) if head and tail.isdigit() else None


# --- pydantic's errors, said in Chinese ----------------------------------------------------------------

_KIND = {
    bool: "布尔值",
    int: "整数",
    float: "小数",
    str: "字符串",
    list: "列表",
    dict: "映射",
    date: "日期",
    datetime: "时间",
}

# The formats the models ask for with a `pattern`, by what they are rather than by the expression.
PATTERNS = {
    r"^[A-Z_][A-Z0-9_]*$": "环境变量名（大写字母、数字和下划线，如 YUQING_SMTP_PASSWORD）",
    r"^1\d{10}$": "手机号（11 位数字）",
    r"^[^@\s]+@[^@\s]+$": "邮箱地址",
    r"^[0-9]{5,12}$": "微博 uid（5 到 12 位数字）",
    r"\S": "非空白的文字",
}

# Errors whose reason is a fixed phrase, followed by what was found.
_EXPECTED = {
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能有小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表（每项一行以“- ”开头，或写成 [甲, 乙]）",
    "tuple_type": "应为列表（每项一行以“- ”开头，或写成 [甲, 乙]）",
    "set_type": "应为列表（每项一行以“- ”开头，或写成 [甲, 乙]）",
    "dict_type": "应为映射（“键: 值”，每项一行）",
    "model_type": "应为映射（“键: 值”，每项一行）",
    "model_attributes_type": "应为映射（“键: 值”，每项一行）",
    "finite_number": "应为有限的数字",
    "url_type": "应为网址字符串",
    "datetime_type": "应为时间",
    "datetime_parsing": "应为时间，如 2026-11-23 08:30",
    "date_type": "应为日期",
    "date_parsing": "应为日期，如 2026-11-23",
    "none_required": "应为空（不写）",
}

# What a URL parser complains of most often, in words.
_URL_PROBLEMS = {
    "relative URL without a base": "缺少 http:// 或 https:// 开头",
    "empty host": "缺少网站域名",
    "invalid port number": "端口号不对",
    "invalid international domain name": "域名不对",
    "invalid IPv4 address": "IP 地址不对",
    "invalid IPv6 address": "IP 地址不对",
}


def describe_value(value: Any) -> str:
    """What a YAML value is, in words: 整数 99, 字符串 "很高", 列表（3 项）, 空值."""
    if value is None:
        return "空值（冒号后什么也没写）"
    kind = _KIND.get(type(value), type(value).__name__)
    if isinstance(value, list | dict):
        return f"{kind}（{len(value)} 项）"
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, str):
        shown = f'"{value}"'
    elif isinstance(value, date):  # YAML reads an unquoted 2026-11-23 as a date
        shown = value.isoformat()
    else:
        shown = repr(value)
    if len(shown) > 60:
        shown = f"{shown[:60]}…"
    return f"{kind} {shown}"


def _choices(expected: str) -> str:
    """pydantic's `'a', 'b' or 'c'` as `a、b、c`."""
    return "、".join(part.strip().strip("'") for part in expected.replace(" or ", ", ").split(", "))


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def explain(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a Chinese reason, naming what was
    expected and what was found; pydantic's own English for the rare kinds not listed here."""
    if tuple(error.get("loc", ()))[-1:] == ("[key]",):
        return "键名" + explain({**error, "loc": tuple(error["loc"])[:-1]})
    kind: str = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    found = f"，收到{describe_value(error.get('input'))}" if "input" in error else ""
    if kind == "missing":
        return "缺少这一项，必须填写"
    if kind == "extra_forbidden":
        return "不认识这个键（多半是键名拼错了，或放错了层级）"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
    if kind in _EXPECTED:
        return _EXPECTED[kind] + found
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
        limit = _number(ctx.get(bound[kind]))
        words = {
            "greater_than": f"应大于 {limit}",
            "greater_than_equal": f"不能小于 {limit}",
            "less_than": f"应小于 {limit}",
            "less_than_equal": f"不能大于 {limit}",
        }
        return words[kind] + found
    if kind == "multiple_of":
        return f"应为 {_number(ctx.get('multiple_of'))} 的整数倍{found}"
    if kind in ("literal_error", "enum"):
        return f"应为以下之一：{_choices(str(ctx.get('expected', '')))}{found}"
    if kind in ("too_short", "too_long"):
        size = ctx.get("min_length" if kind == "too_short" else "max_length")
        at = "至少" if kind == "too_short" else "最多"
        return f"{at}要有 {size} 项，现有 {ctx.get('actual_length')} 项"
    if kind in ("string_too_short", "string_too_long"):
        size = ctx.get("min_length" if kind == "string_too_short" else "max_length")
        at = "至少" if kind == "string_too_short" else "最多"
        return f"{at} {size} 个字符{found}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        wanted = PATTERNS.get(pattern, f"符合格式 {pattern}")
        return f"应为{wanted}{found}"
    if kind == "url_parsing":
        problem = str(ctx.get("error", ""))
        return f"不是有效的网址：{_URL_PROBLEMS.get(problem, problem)}{found}"
    if kind == "url_scheme":
        return f"网址应以 {_choices(str(ctx.get('expected_schemes', '')))} 开头{found}"
    return str(error["msg"])
