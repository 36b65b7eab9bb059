"""Source health: whether each source still delivers, judged once per crawl from its finish reason and counters,
remembered per source (state, since when, how many runs), and raised to duty staff as an alert.

A silent crawler is the worst failure of a monitoring office, so every way a site stops us (login wall,
captcha, refusal, a site that is down or out of reach, some pages that could not be fetched, an empty list,
a changed layout, a crawl that died) becomes one named, counted state. Fetch failures are counted in one
place for every spider (`spiders.health.SourceHealthMiddleware`) and judged here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.models import Alert, AlertKind
from alerts.outbox import Outbox
from classifiers.types import Level
from config.env import Env
from pipeline.items import SHANGHAI

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
UNREACHABLE = "unreachable"
PARTIAL = "partial"
# A crawl under a patrol leaves an unreachable site to the patrol, which tells all of them in one alert.
GROUP_UNREACHABLE = "YUQING_HEALTH_GROUP_UNREACHABLE"
DEFERRED_STAT = "yuqing/health/deferred"
# Posts the index stage could not store (pipeline.stages.index).
STORE_FAILED_STAT = "yuqing/index/failed"
OK_TEXT = "正常"

# In order of precedence when a crawl counted several: the first names what an operator must fix first.
REASONS: dict[str, str] = {
    "login_wall": "要求登录（登录墙）",
    "captcha": "出现验证码或安全验证页",
    "blocked": "访问被网站拒绝或限流（HTTP 403/418/429/432）",
    UNREACHABLE: "网站无法访问（断网、域名解析失败、连接失败、超时或服务器错误）",
    "layout_changed": "页面结构已变，选择器不再匹配",
    "empty": "应有内容的列表为空",
    FAILED: "抓取异常结束",
    PARTIAL: "部分页面无法获取",
}

ADVICE: dict[str, str] = {
    "login_wall": "更新该来源的登录 Cookie，或确认该页面是否已改为登录后可见",
    "captcha": "降低抓取频率或更换出口 IP/代理，必要时人工完成验证后更新 Cookie",
    "blocked": "降低频率（download_delay、concurrency），检查出口 IP 是否被封，必要时配置代理（proxy_env）",
    UNREACHABLE: "在浏览器中打开该网站确认；检查本机网络、DNS 和代理",
    "layout_changed": "对照网页修改 config/sources.yaml 中该来源的选择器",
    "empty": "在浏览器中打开列表页确认；若内容由脚本生成，为该来源设置 render: true",
    FAILED: "查看 var/logs/ 下该来源的日志",
    PARTIAL: "多为个别页面暂时出错；若连续出现，在浏览器中打开失败的页面确认，检查网络和代理",
}

# How a fetch can fail for good (after its retries), as `spiders.health.classify_failure` names it.
FETCH_FAILURES: dict[str, str] = {
    "dns": "域名解析失败",
    "refused": "连接被拒绝",
    "reset": "连接被重置",
    "timeout": "连接超时",
    "tls": "TLS 握手失败",
    "proxy": "代理连接失败",
    "network": "网络不可达",
    "server_error": "服务器错误",
    "other": "下载失败",
}

# The other problems a crawl counts (`yuqing/source/<source>/<problem>`, and `yuqing/dropped/<reason>` for
# the posts the stages drop) as people read them in the patrol summary; stats and run records keep the names.
PROBLEMS: dict[str, str] = {
    "api_error": "接口返回错误",
    "api_status": "接口返回异常状态",
    "bad_comment": "评论无法解析",
    "bad_config": "来源配置有误",
    "bad_date": "日期无法识别",
    "bad_encoding": "网页编码无法识别",
    "bad_entry": "列表条目无法解析",
    "bad_floor": "楼层无法解析",
    "bad_item": "条目无法解析",
    "bad_json": "返回内容不是有效的 JSON",
    "bad_reply": "楼中楼回复无法解析",
    "body_repeated": "正文有重复段落（已去除）",
    "charset_mismatch": "网页实际编码与声明不符（已按实际编码读取）",
    "disk_full": "磁盘已满",
    "duplicate": "重复帖子",
    "empty_list": "列表为空",
    "invalid": "帖子字段无效",
    "long_text_missing": "长文本缺失",
    "no_all_data": "页面缺少帖子数据",
    "no_body": "未找到正文（已改用通用提取）",
    "no_first_floor": "首页缺少一楼",
    "no_forum_id": "缺少贴吧编号，无法读取楼中楼",
    "no_page_time": "页面无发布时间",
    "no_time": "缺少发布时间",
    "not_text": "不是网页（内容类型不对）",
    "parse_error": "解析出错",
    "thread_gone": "帖子已删除或不存在",
    "too_large": "页面过大，已截断",
}

# How a crawl can end (Scrapy's finish reasons, and ours), as people read them.
FINISH_REASONS: dict[str, str] = {
    "finished": "正常结束",
    "shutdown": "被中止（收到停止信号）",
    "cancelled": "被取消",
    "closespider_timeout": "超过最长抓取时间，提前停止",
    "closespider_itemcount": "达到条目数上限，提前停止",
    "closespider_pagecount": "达到页数上限，提前停止",
    "closespider_errorcount": "出错太多，提前停止",
    "disk_full": "磁盘已满，提前停止",
    "unknown": "结束方式未知",
}

# A crawl whose health could not be judged (the patrol stopped, the process left no record).
UNKNOWN_TEXT = "未知（本次巡查未能判断）"

# A partial crawl still delivers; duty staff are told once it keeps happening, not for one slow page.
PARTIAL_ALERT_AFTER = 3

# Chinese names of the built-in spiders; a source may name itself with `label:` in sources.yaml.
SPIDER_LABELS: dict[str, str] = {
    "sina_news": "新浪新闻",
    "people_news": "人民网",
    "people_liuyan": "人民网领导留言板",
    "netease_news": "网易新闻",
    "sohu_news": "搜狐新闻",
    "ifeng_news": "凤凰网",
    "weibo_search": "微博搜索",
    "weibo_timeline": "微博账号",
    "tieba": "百度贴吧",
    "weixin_sogou": "微信公众号(搜狗)",
}


def source_label(name: str, spider: str | None = None, label: str | None = None) -> str:
    """The Chinese name people read for a source: its own `label`, else its spider's, else its name."""
    return label or SPIDER_LABELS.get(spider or name) or name


def display_name(name: str, label: str) -> str:
    """`新浪新闻（sina_news）`: the Chinese name, and the name commands take."""
    return f"{label}（{name}）" if label and label != name else name


def state_text(state: str) -> str:
    """A health state as people read it."""
    if state == OK:
        return OK_TEXT
    if state == "unknown":
        return UNKNOWN_TEXT
    return REASONS.get(state, state)


def problem_text(problem: str) -> str:
    """A counted problem as people read it: `http_404` is HTTP 404, `fetch_error` a failed download; a
    name this module does not know is shown as it is rather than hidden."""
    if problem in REASONS:
        return state_short(problem)
    if problem in PROBLEMS:
        return PROBLEMS[problem]
    if problem.startswith("http_") and problem[5:].isdigit():
        return f"HTTP {problem[5:]} 错误"
    if problem == "fetch_error":
        return FETCH_FAILURES["other"]
    return problem


def finish_text(reason: str) -> str:
    """How a crawl ended, as people read it."""
    if reason in REASONS:
        return state_text(reason)
    return FINISH_REASONS.get(reason, reason)


def state_short(state: str) -> str:
    """A health state in a few words, for tables and progress lines: 网站无法访问."""
    return state_text(state).split("（")[0]


def is_failure(state: str) -> bool:
    """Whether a state means the source did not deliver (partial delivery is a warning, not a failure)."""
    return state not in (OK, PARTIAL)


def problem_key(source: str, reason: str) -> str:
    """The stats key a spider or middleware increments for one problem of one source."""
    return f"yuqing/source/{source}/{reason}"


def detail_key(source: str) -> str:
    """The stats key holding the first health problem's detail (what and where), for the alert."""
    return f"yuqing/health/{source}/detail"


def fetch_key(source: str, what: str) -> str:
    """Stats keys of the fetches of one crawl: `ok`, `failed`, `failed/<kind>` and `first_failure`."""
    return f"yuqing/fetch/{source}/{what}"


def _count(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key) or 0)


def fetch_summary(source: str, stats: Mapping[str, Any]) -> str:
    """`3 次请求失败、0 次成功（域名解析失败 3）；首次：…` for the detail of an unreachable or partial crawl."""
    failed = _count(stats, fetch_key(source, "failed"))
    fetched = _count(stats, fetch_key(source, "ok"))
    kinds = "、".join(
        f"{text} {count}"
        for kind, text in FETCH_FAILURES.items()
        if (count := _count(stats, fetch_key(source, f"failed/{kind}")))
    )
    first = stats.get(fetch_key(source, "first_failure"))
    return (
        f"{failed} 次请求失败、{fetched} 次成功"
        + (f"（{kinds}）" if kinds else "")
        + (f"；首次：{first}" if first else "")
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one crawl of one source went, for duty staff."""

    source: str
    state: str  # OK or a key of REASONS
    detail: str
    finish_reason: str
    items: int
    counts: dict[str, int]
    fetched: int = 0  # requests answered (after retries)
    fetch_failures: int = 0  # requests that got no usable answer after their retries
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.state == OK


def assess(source: str, finish_reason: str, stats: Mapping[str, Any], label: str = "") -> Verdict:
    """The health of one crawl: its finish reason when that names a problem, else the worst problem it
    counted, else `failed` for any end other than `finished`, else `partial` when some fetches failed.

    Fetches that all failed make it `unreachable`, whatever the spider concluded from the pages it never
    got (an empty list, a changed layout): only a login wall, captcha or refusal says more."""
    counts = {
        reason: _count(stats, problem_key(source, reason))
        for reason in REASONS
        if _count(stats, problem_key(source, reason)) > 0
    }
    items = _count(stats, "item_scraped_count")
    fetched = _count(stats, fetch_key(source, "ok"))
    failures = _count(stats, fetch_key(source, "failed"))
    detail = str(stats.get(detail_key(source)) or "")
    if finish_reason in REASONS:
        state = finish_reason
    elif counts:
        state = next(reason for reason in REASONS if reason in counts)
    elif finish_reason != "finished":
        state = FAILED
        detail = detail or f"抓取结束：{finish_text(finish_reason)}"
    else:
        state = OK
    order = list(REASONS)
    if (
        failures
        and not fetched
        and (state in (OK, UNREACHABLE) or order.index(UNREACHABLE) < order.index(state))
    ):
        state, detail = UNREACHABLE, fetch_summary(source, stats)
    elif failures and state == OK:
        state, detail = PARTIAL, fetch_summary(source, stats)
    unsaved = _count(stats, STORE_FAILED_STAT)
    if unsaved and state in (OK, PARTIAL):
        # Fetched and analysed but not stored: lost to search and to the event totals, so never 正常.
        state, detail = (
            FAILED,
            f"{unsaved} 条信息未能写入存储（原因见巡查日志）" + (f"；{detail}" if detail else ""),
        )
    if state != OK and not detail:
        found = "、".join(f"{state_short(reason)} {count} 次" for reason, count in counts.items())
        detail = f"抓取结束：{finish_text(finish_reason)}" + (f"；记录到{found}" if found else "")
    return Verdict(source, state, detail, finish_reason, items, counts, fetched, failures, label)


@dataclass(slots=True)
class HealthState:
    """What `yuqing doctor` shows for a source: its state, since when, for how many crawls in a row."""

    source: str
    state: str
    since: str
    runs: int
    detail: str
    last_run: str
    last_ok: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == OK


def health_dir(env: Env) -> Path:
    """Where each source's health state is kept: one small JSON file per source."""
    return env.health_dir


def state_path(directory: Path, source: str) -> Path:
    return directory / f"{source}.json"


def load_state(directory: Path, source: str) -> HealthState | None:
    path = state_path(directory, source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return HealthState(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("健康状态文件 %s 无法读取（%s），该来源的状态从头记起", path, exc)
        return None


def load_states(directory: Path) -> dict[str, HealthState]:
    if not directory.is_dir():
        return {}
    states = {}
    for path in sorted(directory.glob("*.json")):
        state = load_state(directory, path.stem)
        if state is not None:
            states[state.source] = state
    return states


def update_state(directory: Path, verdict: Verdict, at: datetime) -> HealthState:
    """Record one crawl's verdict; a state that continues keeps its `since` and counts one more run."""
    previous = load_state(directory, verdict.source)
    stamp = at.isoformat()
    if previous is not None and previous.state == verdict.state:
        state = previous
        state.runs += 1
        state.detail = verdict.detail
        state.last_run = stamp
    else:
        state = HealthState(
            source=verdict.source,
            state=verdict.state,
            since=stamp,
            runs=1,
            detail=verdict.detail,
            last_run=stamp,
            last_ok=previous.last_ok if previous else None,
        )
    if verdict.ok:
        state.last_ok = stamp
    directory.mkdir(parents=True, exist_ok=True)
    # Crawls of different sources finish at the same moment; each writes only its own file, atomically.
    fd, tmp = tempfile.mkstemp(prefix=f".{verdict.source}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(state), out, ensure_ascii=False, indent=1)
        Path(tmp).replace(state_path(directory, verdict.source))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return state


def health_alert(verdict: Verdict, state: HealthState, duty: list[str], at: datetime) -> Alert:
    """One alert per source, problem and day (a Beijing day), addressed to duty staff."""
    what = REASONS[verdict.state]
    since = datetime.fromisoformat(state.since).astimezone(SHANGHAI)
    name = display_name(verdict.source, verdict.label)
    lines = [
        f"原因：{what}",
        f"详情：{verdict.detail}",
        f"自 {since:%Y-%m-%d %H:%M}（北京时间）起连续 {state.runs} 次巡查异常；本次采集 {verdict.items} 条",
        f"处理建议：{ADVICE[verdict.state]}",
        "恢复前该来源的舆情可能漏报，请人工巡查该网站。",
    ]
    return Alert(
        key=f"health:{verdict.source}:{verdict.state}:{at.astimezone(SHANGHAI):%Y-%m-%d}",
        post_id="",
        event_id=f"health:{verdict.source}",
        level=Level.GENERAL,
        title=f"{name}：{what}",
        url="",
        source=name,
        summary=verdict.detail,
        created_at=at,
        reasons=lines,
        inform=list(duty),
        kind=AlertKind.HEALTH,
    )


def unreachable_alert(
    verdicts: list[Verdict], states: Mapping[str, HealthState], patrolled: int, duty: list[str], at: datetime
) -> Alert:
    """Several sources a patrol could not reach, in one alert: when the office's own line or DNS is down
    every site fails at once, and duty staff need one message saying so, not one per site."""
    names = [display_name(v.source, v.label) for v in verdicts]
    if len(verdicts) == patrolled:
        title = f"全部 {patrolled} 个来源均无法访问，可能是本机网络中断"
        advice = "先检查本机网络、DNS 和代理，再在浏览器中打开这些网站确认"
    else:
        title = f"{len(verdicts)} 个来源无法访问：{'、'.join(names)}"
        advice = ADVICE[UNREACHABLE]
    lines = [f"原因：{REASONS[UNREACHABLE]}"]
    for verdict, name in zip(verdicts, names, strict=True):
        state = states.get(verdict.source)
        runs = f"，自 {_beijing(state.since)} 起连续 {state.runs} 次" if state else ""
        lines.append(f"{name}{runs}：{verdict.detail}")
    lines += [f"处理建议：{advice}", "恢复前这些来源的舆情可能漏报，请人工巡查这些网站。"]
    sources = "+".join(sorted(v.source for v in verdicts))
    return Alert(
        key=f"health:{UNREACHABLE}:{sources}:{at.astimezone(SHANGHAI):%Y-%m-%d}",
        post_id="",
        event_id=f"health:{UNREACHABLE}",
        level=Level.GENERAL,
        title=title,
        url="",
        source="、".join(names),
        summary=title,
        created_at=at,
        reasons=lines,
        inform=list(duty),
        kind=AlertKind.HEALTH,
    )


def report_unreachable(
    verdicts: list[Verdict],
    *,
    patrolled: int,
    health_dir: Path,
    outbox_path: Path,
    duty: list[str],
    at: datetime,
) -> bool:
    """The sources a patrol could not reach, told to duty staff: one alone as its own health alert, several
    in one. Their states were remembered as each crawl ended. Whether an alert was queued."""
    if not verdicts:
        return False
    states = {v.source: s for v in verdicts if (s := load_state(health_dir, v.source)) is not None}
    if len(verdicts) == 1:
        [verdict] = verdicts
        state = states.get(verdict.source)
        if state is None:
            return False
        alert = health_alert(verdict, state, duty, at)
    else:
        alert = unreachable_alert(verdicts, states, patrolled, duty, at)
    for verdict in verdicts:
        logger.warning(
            "信息源异常：%s：%s：%s",
            display_name(verdict.source, verdict.label),
            state_text(UNREACHABLE),
            verdict.detail,
        )
    outbox = Outbox(outbox_path)
    try:
        return outbox.enqueue(alert)
    finally:
        outbox.close()


def _beijing(stamp: str) -> str:
    return f"{datetime.fromisoformat(stamp).astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


@dataclass(frozen=True, slots=True)
class HealthReport:
    verdict: Verdict
    state: HealthState
    alerted: bool


def report_health(
    verdict: Verdict,
    *,
    health_dir: Path,
    outbox_path: Path,
    duty: list[str],
    at: datetime,
    alert: bool = True,
) -> HealthReport:
    """Remember the verdict and, when it is a problem (and `alert`), put a health alert in the durable
    outbox. A patrol passes `alert=False` for a site it cannot reach, and tells those together at its end."""
    state = update_state(health_dir, verdict, at)
    alerted = False
    if alert and not verdict.ok and (verdict.state != PARTIAL or state.runs >= PARTIAL_ALERT_AFTER):
        logger.warning(
            "信息源异常：%s：%s（%s），自 %s 起连续 %d 次：%s",
            display_name(verdict.source, verdict.label),
            state_text(verdict.state),
            verdict.state,
            _beijing(state.since),
            state.runs,
            verdict.detail,
        )
        outbox = Outbox(outbox_path)
        try:
            alerted = outbox.enqueue(health_alert(verdict, state, duty, at))
        finally:
            outbox.close()
    return HealthReport(verdict, state, alerted)


# A source whose last crawl is older than this is not vouched for, whatever that crawl found.
STALE_HOURS = 24


def source_verdicts(env: Env, office: Any, now: datetime) -> list[dict[str, Any]]:
    """One verdict per source, from its health state alone (what its last crawls left): the state and its
    Chinese reason, since when (Beijing time) and for how many crawls in a row, the detail, the last good
    crawl; `status` is ok, warn (partial, not crawled yet, stale, or no longer configured) or fail. What
    `yuqing doctor` prints and the console's duty desk shows."""

    def beijing(stamp: str | None) -> str | None:
        return datetime.fromisoformat(stamp).astimezone(SHANGHAI).isoformat() if stamp else None

    def shown(stamp: str | None) -> str:
        return stamp[:16].replace("T", " ") if stamp else "从未"

    states = load_states(health_dir(env))
    configured = {s.name: s for s in office.sources.sources if s.enabled} if office else {}
    entries: list[dict[str, Any]] = []
    for name in dict.fromkeys([*configured, *states]):
        config = configured.get(name)
        label = source_label(name, config.spider, config.label) if config else name
        entry: dict[str, Any] = {
            "source": name,
            "label": label,
            "configured": config is not None,
            "state": None,
            "reason": None,
            "since": None,
            "runs": 0,
            "detail": "",
            "last_ok": None,
            "last_run": None,
            "advice": None,
        }
        what = f"来源 {display_name(name, label)}"
        state = states.get(name)
        if state is None:
            entry.update(status="warn", reason="尚未巡查", line=f"{what}：尚未巡查，健康未知")
            entries.append(entry)
            continue
        entry.update(
            state=state.state,
            reason=state_text(state.state),
            since=beijing(state.since),
            runs=state.runs,
            detail=state.detail,
            last_ok=beijing(state.last_ok),
            last_run=beijing(state.last_run),
            advice=ADVICE.get(state.state),
        )
        since, last_ok = shown(entry["since"]), shown(entry["last_ok"])
        if state.state == OK:
            status = "ok"
            line = f"{what}：正常，自 {since} 起连续 {state.runs} 次巡查正常"
        else:
            status = "warn" if state.state == PARTIAL else "fail"
            line = (
                f"{what}：{entry['reason']}，自 {since} 起连续 {state.runs} 次巡查；"
                f"详情：{state.detail}；上次正常：{last_ok}"
            )
            if entry["advice"]:
                line += f"；处理建议：{entry['advice']}"
        last_run = datetime.fromisoformat(state.last_run)
        if now - last_run > timedelta(hours=STALE_HOURS):
            if status == "ok":
                status = "warn"
            line += f"；最近一次巡查在 {shown(entry['last_run'])}，已超过 {STALE_HOURS} 小时"
        if config is None:
            status = "warn"
            line += "；该来源已不在 sources.yaml 中（或已停用）"
        entry.update(status=status, line=line)
        entries.append(entry)
    return entries


# -- the checkpoints' patrols, as `serve` records them in its state file --------------------------------

CHECKPOINT_RUN = "checkpoint:"  # serve-state key of a checkpoint's patrol: when it ended and how it went
KEPT_CHECKPOINT_RUNS = 9  # three days of them


def checkpoint_runs(state: dict[str, str], slot: datetime, ended: datetime, ok: bool) -> dict[str, str]:
    """The serve state with this checkpoint's patrol recorded, the oldest dropped beyond three days."""
    runs = sorted(k for k in state if k.startswith(CHECKPOINT_RUN))[-(KEPT_CHECKPOINT_RUNS - 1) :]
    kept = {k: v for k, v in state.items() if not k.startswith(CHECKPOINT_RUN) or k in runs}
    return {**kept, f"{CHECKPOINT_RUN}{slot.isoformat()}": f"{ended.isoformat()} {'ok' if ok else 'failed'}"}


def read_checkpoint_runs(path: Path) -> dict[datetime, tuple[datetime, bool]]:
    """Each recorded checkpoint's patrol: slot → (when it ended, whether it ran through). A missing or
    unreadable file is no record (the desk then shows the checkpoints as not patrolled)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for key, value in state.items() if isinstance(state, dict) else ():
        if not key.startswith(CHECKPOINT_RUN) or not isinstance(value, str):
            continue
        try:
            ended, _, outcome = value.partition(" ")
            found[datetime.fromisoformat(key.removeprefix(CHECKPOINT_RUN))] = (
                datetime.fromisoformat(ended),
                outcome == "ok",
            )
        except ValueError:
            continue
    return found
