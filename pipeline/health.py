"""Source health: whether each source still delivers, judged once per crawl from its finish reason and counters,
remembered per source (state, since when, how many runs), and raised to duty staff as an alert.

A silent crawler is the worst failure of a monitoring office, so every way a site stops us (login wall,
captcha, refusal, a site that is down, an empty list, a changed layout, a crawl that died) becomes one named, counted state.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alerts.models import Alert
from alerts.outbox import Outbox
from classifiers.types import Level
from config.env import Env

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"

# In order of precedence when a crawl counted several: the first names what an operator must fix first.
REASONS: dict[str, str] = {
    "login_wall": "要求登录（登录墙）",
    "captcha": "出现验证码或安全验证页",
    "blocked": "访问被网站拒绝或限流（HTTP 403/418/429/432）",
    "unreachable": "网站无法访问（超时、断网或服务器错误）",
    "layout_changed": "页面结构已变，选择器不再匹配",
    "empty": "应有内容的列表为空",
    FAILED: "抓取异常结束",
}

ADVICE: dict[str, str] = {
    "login_wall": "更新该来源的登录 Cookie，或确认该页面是否已改为登录后可见",
    "captcha": "降低抓取频率或更换出口 IP/代理，必要时人工完成验证后更新 Cookie",
    "blocked": "降低频率（download_delay、concurrency），检查出口 IP 是否被封，必要时配置代理（proxy_env）",
    "unreachable": "在浏览器中打开该网站确认；检查本机网络、DNS 和代理",
    "layout_changed": "对照网页修改 config/sources.yaml 中该来源的选择器",
    "empty": "在浏览器中打开列表页确认；若内容由脚本生成，为该来源设置 render: true",
    FAILED: "查看 var/logs/ 下该来源的日志",
}


def problem_key(source: str, reason: str) -> str:
    """The stats key a spider or middleware increments for one problem of one source."""
    return f"yuqing/source/{source}/{reason}"


def detail_key(source: str) -> str:
    """The stats key holding the first health problem's detail (what and where), for the alert."""
    return f"yuqing/health/{source}/detail"


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one crawl of one source went, for duty staff."""

    source: str
    state: str  # OK or a key of REASONS
    detail: str
    finish_reason: str
    items: int
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.state == OK


def assess(source: str, finish_reason: str, stats: Mapping[str, Any]) -> Verdict:
    """The health of one crawl: its finish reason when that names a problem, else the worst problem it
    counted, else `failed` for any end other than `finished`."""
    counts = {
        reason: int(stats.get(problem_key(source, reason)) or 0)
        for reason in REASONS
        if int(stats.get(problem_key(source, reason)) or 0) > 0
    }
    items = int(stats.get("item_scraped_count") or 0)
    detail = str(stats.get(detail_key(source)) or "")
    if finish_reason in REASONS:
        state = finish_reason
    elif counts:
        state = next(reason for reason in REASONS if reason in counts)
    elif finish_reason != "finished":
        state = FAILED
        detail = detail or f"the crawl ended with {finish_reason!r}"
    else:
        state = OK
    if state != OK and not detail:
        found = ", ".join(f"{reason}={count}" for reason, count in counts.items())
        detail = f"finish reason {finish_reason}" + (f"; counted {found}" if found else "")
    return Verdict(source, state, detail, finish_reason, items, counts)


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
        logger.warning("health state %s is unreadable (%s); starting afresh", path, exc)
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
    """One alert per source, problem and day, addressed to duty staff."""
    what = REASONS[verdict.state]
    since = datetime.fromisoformat(state.since)
    lines = [
        f"原因：{verdict.state}（{what}）",
        f"详情：{verdict.detail}",
        f"自 {since:%Y-%m-%d %H:%M} 起连续 {state.runs} 次巡查异常；本次采集 {verdict.items} 条",
        f"处理建议：{ADVICE[verdict.state]}",
        "恢复前该来源的舆情可能漏报，请人工巡查该网站。",
    ]
    return Alert(
        key=f"health:{verdict.source}:{verdict.state}:{at:%Y-%m-%d}",
        post_id="",
        event_id=f"health:{verdict.source}",
        level=Level.GENERAL,
        title=f"{verdict.source}：{what}",
        url="",
        source=verdict.source,
        summary=verdict.detail,
        created_at=at,
        reasons=lines,
        inform=list(duty),
        kind="health",
    )


@dataclass(frozen=True, slots=True)
class HealthReport:
    verdict: Verdict
    state: HealthState
    alerted: bool


def report_health(
    verdict: Verdict, *, health_dir: Path, outbox_path: Path, duty: list[str], at: datetime
) -> HealthReport:
    """Remember the verdict and, when it is a problem, put a health alert in the durable outbox."""
    state = update_state(health_dir, verdict, at)
    alerted = False
    if not verdict.ok:
        logger.warning(
            "source health: %s: %s since %s (%d runs): %s",
            verdict.source,
            verdict.state,
            state.since,
            state.runs,
            verdict.detail,
        )
        outbox = Outbox(outbox_path)
        try:
            alerted = outbox.enqueue(health_alert(verdict, state, duty, at))
        finally:
            outbox.close()
    return HealthReport(verdict, state, alerted)
