"""`yuqing`: patrol, demo, search, analyze and doctor. Errors at this edge become one clear line and a
non-zero exit; nothing is written before the config has been checked."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from commands import cli_text
from commands.common import Exit, err, fail, load_office, out
from commands.demo import demo_option
from commands.userpaths import user_path
from config.env import get_env
from config.errors import ConfigError, YuqingError
from config.loader import config_dir, load_config
from config.logtime import DATE_FORMAT, LOG_FORMAT, use_beijing_time
from config.secrets import install_log_masking
from pipeline.items import source_text

cli_text.install()
app = typer.Typer(add_completion=False, no_args_is_help=True, help="政务舆情监测：巡查、分析、检索与预警")


# Elasticsearch answers at most 10,000 hits per query (index.max_result_window); the embedded store holds to
# the same, so a query means the same on both.
MAX_SEARCH_RESULTS = 10_000


def _check_count(option: str, value: int, maximum: int) -> int:
    """A count option within 1..maximum, or the one-line error that says so (0 or less would mean "all" to
    SQLite, a huge number overflows it)."""
    if not 1 <= value <= maximum:
        raise fail(f"{option} 应为 1 到 {maximum:,} 之间的整数，收到 {value}")
    return value


# What the offline analysis stages read (pipeline.context): rules, places, departments and severity.
ANALYSIS = frozenset({"rules", "territory", "units", "severity"})
# The query is cut into words as posts are: rule terms, place names and department keywords.
SEARCH = frozenset({"rules", "territory", "units"})


@app.callback()
def _setup(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="输出各部分的运行日志（写到标准错误，北京时间）")
    ] = False,
) -> None:
    use_beijing_time()  # log times as the office reads every other time, whatever the machine's zone
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format=LOG_FORMAT,
        datefmt=DATE_FORMAT,
        stream=sys.stderr,
    )
    install_log_masking()  # no configured secret in any log line, whatever the command
    from pipeline.clock import ClockError, frozen

    # Checked once here, before any command reads the clock deep inside and fails with a traceback.
    try:
        frozen()
    except ClockError as exc:
        raise fail(str(exc)) from None


def _print_patrol(report: Any, title: str) -> None:
    from pipeline.health import FETCH_FAILURES, UNREACHABLE, display_name, problem_text

    table = Table(title=title)
    for column in ("来源", "健康", "采集", "丢弃", "入库", "暂存", "预警", "用时", "问题"):
        table.add_column(column, overflow="fold")
    for run in report.runs:
        problems: dict[str, int] = {}
        for name, count in {**run.drop_reasons(), **run.source_problems()}.items():
            problems[problem_text(name)] = problems.get(problem_text(name), 0) + count
        fetch = f"yuqing/fetch/{run.source}/failed/"
        for kind, text in FETCH_FAILURES.items():
            if run.stat(fetch + kind):
                problems[text] = run.stat(fetch + kind)
        table.add_row(
            display_name(run.source, run.label),
            _health_cell(run),
            str(run.items),
            str(run.dropped),
            str(run.stat("yuqing/index/written")),
            str(run.stat("yuqing/index/spooled")),
            str(run.stat("yuqing/alert/raised")),
            f"{run.seconds:.1f} 秒",
            escape("，".join(f"{k} {v}" for k, v in problems.items())) or "-",
        )
    out.print(table)
    if report.stopped:
        err.print(f"[red]错误：[/red]{report.stopped}", highlight=False, soft_wrap=True)
    rate = report.items / report.seconds if report.seconds else 0.0
    out.print(
        f"巡查完成：{report.items} 条，用时 {report.seconds:.1f} 秒（{rate:.1f} 条/秒）；"
        f"新预警 {report.alerts_raised} 条，送达 {report.dispatch.sent} 次，失败 {report.dispatch.failed} 次",
        highlight=False,
        soft_wrap=True,
    )
    for note in report.dispatch.silence_notes:  # what a silence held back, let through or released
        out.print(note, highlight=False)
    if report.warnings:
        out.print(f"[yellow]注意：{len(report.warnings)} 个来源部分页面无法获取：[/yellow]", highlight=False)
        for run in report.warnings:
            out.print(
                f"  {display_name(run.source, run.label)}：{run.detail}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if report.failed:
        out.print(
            f"[red]故障：{len(report.failed)} 个来源本次巡查失败，其舆情可能漏报：[/red]", highlight=False
        )
        if len(report.runs) > 1 and all(run.health == UNREACHABLE for run in report.runs):
            out.print(
                "所有来源都无法访问：多半是本机断网，或 DNS、代理设置有误，而不是各网站同时出了问题。",
                highlight=False,
                soft_wrap=True,
            )
        for run in report.failed:
            out.print(
                f"  {display_name(run.source, run.label)}：{_run_reason(run)}"
                + (f"——{run.detail}" if run.detail else ""),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


def _run_reason(run: Any, *, short: bool = False) -> str:
    from pipeline.health import OK, state_short, state_text

    if run.health == OK and run.exit_code != 0:
        return f"抓取进程异常退出（退出码 {run.exit_code}）"
    return state_short(run.health) if short else state_text(run.health)


def _health_cell(run: Any) -> str:
    colour = "red" if run.failed else "yellow" if run.warning else "green"
    return f"[{colour}]{_run_reason(run, short=True)}[/{colour}]"


def _patrol_progress() -> tuple[Any, Any]:
    """Two callbacks for `run_patrol`: a line as each source starts and one as it ends, so a long patrol
    is never silent."""
    from pipeline.health import display_name, source_label

    def started(number: int, total: int, source: Any) -> None:
        name = display_name(source.name, source_label(source.name, source.spider, source.label))
        out.print(f"[{number}/{total}] {name}：开始巡查", highlight=False, markup=False, soft_wrap=True)

    def finished(number: int, total: int, run: Any) -> None:
        line = f"[{number}/{total}] {display_name(run.source, run.label)}：{_run_reason(run, short=True)}，"
        line += f"采集 {run.items} 条，用时 {run.seconds:.1f} 秒"
        if run.failed or run.warning:
            line += f"（{run.detail}）" if run.detail else ""
        style = "red" if run.failed else "yellow" if run.warning else None
        out.print(line, style=style, highlight=False, markup=False, soft_wrap=True)

    return started, finished


@app.command()
def patrol(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="只巡查这个来源（sources.yaml 里的来源名称，可写多次）"),
    ] = None,
) -> None:
    """巡查一遍配置的来源：抓取、分析、入库、预警；逐个来源显示进度，有来源失败时退出码为 3。"""
    from commands.patrol import run_patrol

    office = load_office()
    known = [s.name for s in office.sources.sources]
    unknown = [name for name in source or [] if name not in known]
    if unknown:
        raise fail(f"sources.yaml 中没有来源 {'、'.join(unknown)}（已配置：{'、'.join(known)}）")
    started, finished = _patrol_progress()
    report = run_patrol(office, get_env(), only=source, started=started, finished=finished)
    _print_patrol(report, "巡查")
    if report.stopped:  # a full disk stopped the patrol: what came after it did not run
        raise typer.Exit(Exit.FAILED)
    if report.failed:
        raise typer.Exit(Exit.INCOMPLETE)


@app.command()
def demo(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="只演示这个来源（sources.yaml 里的来源名称，可写多次）"),
    ] = None,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver",
            help="按 alerts.yaml 的渠道真实发送演示预警（默认只在屏幕上显示，不发给任何人）",
        ),
    ] = False,
) -> None:
    """同样的巡查，离线进行：本机回放录制的网页，一切写入演示数据目录 var/demo/，不碰真实数据。"""
    from commands.demo import DEMO_NOW, RECORDINGS
    from commands.patrol import run_demo_patrol

    office = load_office()
    env = get_env()
    dirs = sorted(index.parent for index in RECORDINGS.glob("*/index.json"))
    if not dirs:
        raise fail(f"{RECORDINGS} 下没有演示用的录制网页（*/index.json）")
    # An empty YUQING_NOW runs the demo on the wall clock.
    now = os.environ.get("YUQING_NOW", DEMO_NOW)
    if deliver:
        os.environ["YUQING_DEMO_DELIVER"] = "1"
    report, replayed = run_demo_patrol(office, env, dirs, only=source, now=now)
    _print_patrol(report, f"演示巡查（回放 {replayed}）")
    out.print(
        f"演示数据在 {env.demo_dir}，真实数据未动。在命令后加 --demo 即可查看和试用，"
        "例如 ./yuqing search 濮阳 --demo、./yuqing cases --demo",
        highlight=False,
    )
    if not report.ok:
        raise typer.Exit(Exit.FAILED)


# `-演练` typed after the words is a word to leave out, not an option.
@app.command(context_settings={"ignore_unknown_options": True})
@demo_option
def search(
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="检索式",
            help="写法与关键词规则相同：空格隔开=都要有，(甲|乙)=有其一，-词=不含，title:(…)=只在标题里找，"
            '甲 NEAR/20 乙=相隔不超过 20 字，"…"=整体短语；如 化工厂 排污 -演练',
            show_default=False,
        ),
    ],
    limit: Annotated[int, typer.Option(help=f"最多显示多少条（1 到 {MAX_SEARCH_RESULTS:,}）")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="每条帖子输出一行 JSON，供程序读取")] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="只看此时及以后发布的（北京时间），如 2026-11-20 或 2026-11-20 08:00"),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="只看此时以前发布的（北京时间，不含此刻）")
    ] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option("--source", help="只看这些来源，可写多次，如 --source 微博 --source 百度贴吧"),
    ] = None,
    levels: Annotated[
        list[str] | None, typer.Option("--level", help="只看这些级别，可写多次，如 --level 复杂敏感事件")
    ] = None,
    counties: Annotated[
        list[str] | None, typer.Option("--county", help="只看涉及这些县区的，可写多次，如 --county 范县")
    ] = None,
    sentiments: Annotated[
        list[str] | None, typer.Option("--sentiment", help="只看这些倾向：正面、负面、中性，可写多次")
    ] = None,
    events: Annotated[
        list[str] | None, typer.Option("--event", help="只看这些事件的信息（事件编号），可写多次")
    ] = None,
    newest: Annotated[
        bool, typer.Option("--newest", help="按发布时间排序，最新的在前（默认最相关的在前）")
    ] = False,
) -> None:
    """检索已入库的帖子：检索式与关键词规则写法相同，规则会命中的帖子才列出，最相关、最新的在前。"""
    from classifiers.search_query import SearchQueryError, parse_search
    from pipeline.context import Context
    from pipeline.events import with_merged
    from pipeline.store import open_store

    if unknown := [word for word in words if word.startswith("--")]:
        raise fail(f"没有选项 {'、'.join(unknown)}；可用的选项见 ./yuqing search --help")
    _check_count("--limit", limit, MAX_SEARCH_RESULTS)
    filters = _search_filters(since, until, sources or [], levels or [])
    office = load_office(SEARCH)
    env = get_env()
    # Several words typed apart are one query, as they would be typed in quotes: each must be found.
    query = " ".join(word.strip() for word in words if word.strip())
    try:
        parsed = parse_search(query, Context(office=office, env=env).tokeniser)
    except SearchQueryError as exc:
        raise fail(exc.naming(query)) from None
    parsed = parsed.narrowed(
        counties=_known_counties(office, counties or []),
        polarities=_polarities(sentiments or []),
        events=with_merged(env.events_path, [e.strip() for e in events or [] if e.strip()]),
        newest_first=newest,
    )
    try:
        store = open_store(env, read_only=True)
        hits = store.search(parsed, limit=limit, **filters)
        store.close()
    except YuqingError as exc:
        raise fail(str(exc), Exit.FAILED) from None
    if as_json:
        for hit in hits:
            sys.stdout.write(json.dumps(hit.doc, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"检索「{query}」：{len(hits)} 条")
    for column in ("时间", "级别", "属地", "标题", "来源", "链接"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        doc = hit.doc
        analysis = doc.get("analysis") or {}
        severity = (analysis.get("severity") or {}).get("level", "")
        territory = analysis.get("territory") or {}
        where = "、".join(territory.get("counties") or []) or (territory.get("city") or "")
        title = doc.get("title") or (doc.get("text") or "").replace("\n", " ")[:30]
        table.add_row(
            _beijing_minute(doc.get("published_at")),
            severity,
            where,
            escape(title),
            escape(source_text(doc.get("source"), doc.get("media"))),
            escape(doc.get("url", "")),
        )
    out.print(table)


def _known_counties(office: Any, counties: list[str]) -> list[str]:
    """The counties asked for, as the analysis names them; one the office does not watch stops with the
    choices."""
    known = [county.name for county in office.territory.counties]
    if unknown := [c for c in counties if c.strip() not in known]:
        raise fail(f"没有县区 {'、'.join(unknown)}；可选：{'、'.join(known)}")
    return [c.strip() for c in counties]


def _polarities(names: list[str]) -> list[str]:
    from classifiers.types import Polarity

    by_label = {polarity.label: polarity.value for polarity in Polarity}
    if unknown := [n for n in names if n.strip() not in by_label]:
        raise fail(f"没有倾向 {'、'.join(unknown)}；可选：{'、'.join(by_label)}")
    return [by_label[n.strip()] for n in names]


def _search_filters(
    since: str | None, until: str | None, sources: list[str], levels: list[str]
) -> dict[str, Any]:
    """The filters of `search` as the store takes them; a value that names nothing stops with the choices."""
    from datetime import datetime

    from classifiers.types import Level
    from pipeline.items import SHANGHAI, SOURCE_NAMES

    filters: dict[str, Any] = {}
    for option, text in (("since", since), ("until", until)):
        if text is None:
            continue
        try:
            moment = datetime.fromisoformat(text.strip().replace("/", "-"))
        except ValueError:
            raise fail(
                f"--{option} {text}：不是时间，请写成 2026-11-20 或 2026-11-20 08:00（北京时间）"
            ) from None
        filters[option] = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    by_name = {name: code for code, name in SOURCE_NAMES.items()} | {code: code for code in SOURCE_NAMES}
    if unknown := [s for s in sources if s.strip() not in by_name]:
        known = "、".join(f"{name}（{code}）" for code, name in SOURCE_NAMES.items())
        raise fail(f"没有来源 {'、'.join(unknown)}；可选：{known}")
    filters["sources"] = [str(by_name[s.strip()]) for s in sources]
    names = [level.value for level in Level]
    if unknown := [value for value in levels if value.strip() not in names]:
        raise fail(f"没有级别 {'、'.join(unknown)}；可选：{'、'.join(names)}")
    filters["levels"] = [value.strip() for value in levels]
    return filters


def _beijing_minute(stamp: str | None) -> str:
    """`2026-11-23 09:00` in Beijing time, from a stored ISO time in whatever offset it was kept."""
    from datetime import datetime

    from pipeline.items import SHANGHAI

    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    moment = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _analysis_output(number: int, post: Any) -> dict[str, Any]:
    """The answer line of input line `number`, analysed as `post`."""
    # Built field by field rather than through `to_dict`: the generic walk over every dataclass of the post
    # (search tokens, event records …) cost a fifth of the whole analysis, for fields never printed.
    # Tuples are left as they are: orjson writes them as the same arrays as lists, without the copies. So are
    # the polarity and the level, enums whose values orjson writes (`.value` runs as Python).
    a = post.analysis
    severity, territory, responsible, truncated = a.severity, a.territory, a.responsible, a.truncated
    return {
        "line": number,
        "id": post.id,
        "tokens": a.words,
        "sentiment": a.sentiment,
        "polarity": a.polarity,
        "sentiment_reasons": a.sentiment_reasons,
        "rules": [
            {"id": r.id, "name": r.name, "category": r.category, "weight": r.weight, "terms": r.terms}
            for r in a.rules
        ],
        "severity": severity
        and {"level": severity.level, "score": severity.score, "reasons": severity.reasons},
        "territory": {
            "province": territory.province,
            "city": territory.city,
            "counties": territory.counties,
            "townships": territory.townships,
            "confidence": territory.confidence,
            "reasons": territory.reasons,
        }
        if territory
        else dict.fromkeys(("province", "city", "counties", "townships", "confidence", "reasons")),
        "departments": a.departments,
        "responsible": {
            "first": responsible.first,
            "coordinate": responsible.coordinate,
            "claim": responsible.claim,
            "inform": responsible.inform,
            "reasons": responsible.reasons,
        }
        if responsible
        else {"first": [], "coordinate": [], "claim": [], "inform": [], "reasons": []},
        "spam": a.spam,
        "spam_reasons": a.spam_reasons,
        "truncated": truncated
        and {"analysed": truncated.analysed, "total": truncated.total, "note": truncated.note},
    }


def _write_json_lines(lines: bytes) -> None:
    """JSON lines (UTF-8 bytes), written and flushed at once: one write for the lines of a batch, not one
    (and three flushes) per line."""
    # JSON lines are UTF-8 whatever the locale says, so an ASCII or strict terminal setting cannot stop them.
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(lines.decode("utf-8"))
    else:
        sys.stdout.flush()
        stream.write(lines)
        stream.flush()
    sys.stdout.flush()


def analyze_lines(lines: Any, runner: Any) -> tuple[int, int]:
    """`analyze`'s work on its input lines, once its runner is built: one JSON line out per line in.
    Returns how many lines failed and how many were cut to the analysis cap."""
    from pipeline.runner import run_json_batches

    # orjson writes the UTF-8 bytes at once, several times faster than json.dumps then encode. Each answer is
    # serialised as soon as it is built, and the newlines put in by one join: building the batch's answers
    # first, then adding a newline to each line (a copy of it) took a third longer (4.5 µs a Weibo-length
    # post, against 3.4). (orjson's OPT_APPEND_NEWLINE would take twice as long as adding it here.)
    # Compiled (a module of classifiers/native.py), building an answer took as long: Python reads the
    # slots of the post's records as fast as mypyc does through their attributes.
    dumps = orjson.dumps
    failures = truncated = 0
    for batch in run_json_batches(lines, runner, "analyze"):
        answers: list[bytes] = []
        for number, outcome in batch:
            if isinstance(outcome, str):
                failures += 1
                answers.append(dumps({"line": number, "error": outcome}))
            else:
                truncated += outcome.analysis.truncated is not None
                answers.append(dumps(_analysis_output(number, outcome)))
        if answers:
            answers.append(b"")  # the last line's newline
            _write_json_lines(b"\n".join(answers))
    return failures, truncated


@app.command()
def analyze() -> None:
    """分析帖子：从标准输入逐行读入 JSON，每行输出一行 JSON 分析结果（分词、情感、规则、级别、属地、责任单位）。"""
    from pipeline.context import Context
    from pipeline.runner import OfflineRunner

    office = load_office(ANALYSIS)
    failures, truncated = analyze_lines(sys.stdin, OfflineRunner(Context(office=office, env=get_env())))
    if truncated:
        cap = office.severity.max_text_chars
        err.print(
            f"{truncated} 行文字超过 {cap:,} 字，只分析了前 {cap:,} 字（见各行 truncated）", highlight=False
        )
    if failures:
        err.print(f"{failures} 行未能分析（见各行 error）", highlight=False)


@app.command()
def extract(
    source: Annotated[
        str,
        typer.Argument(
            metavar="网页", help="保存下来的网页文件，或要抓取的 http(s) 网址", show_default=False
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(help="读文件时注明该网页的原网址，用以选用该网站的规则"),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            metavar="规则名",
            help="用 sources.yaml 里的这条网站规则（或通用抓取来源的文章选择器，按名称）读这一页，"
            "逐项说明每个选择器找到了什么；有一项没找到时退出码为 1",
        ),
    ] = None,
) -> None:
    """读取一篇新闻网页，以 JSON 输出标题、正文、发布时间、媒体、作者，以及每一项是怎么找到的。

    先用 sources.yaml 里为该网站写的网站规则，再用内置的门户网站规则，其余网站用通用读法
    （正文上方最近的标题、标题旁最近印出的时间、文字最密的区块），通用读法找不到正文时再换一种提取方法。
    任何编码都能读。
    """
    from config.loader import config_dir, load_file
    from config.models import GenericSiteOptions, SourcesFile
    from spiders.parsing.extract import ExtractError, fetch_url, read_file
    from spiders.parsing.extract import extract as extract_page

    office_rules: list[Any] = []
    chosen: Any = None
    sources_file = config_dir() / "sources.yaml"
    try:
        sources = load_file(sources_file, SourcesFile)
        office_rules = list(sources.site_rules)
    except ConfigError as exc:
        if rule is not None:
            raise fail(str(exc), Exit.USAGE) from None
        err.print(f"提示：{exc}；本次不用 site_rules", highlight=False, markup=False)
        sources = None
    if rule is not None and sources is not None:
        articles = {
            s.name: GenericSiteOptions.model_validate(s.options).article
            for s in sources.sources
            if s.spider == "generic" and s.options.get("article") is not None
        }
        chosen = next((r for r in sources.site_rules if r.name == rule), None) or articles.get(rule)
        if chosen is None:
            names = [r.name for r in sources.site_rules] + list(articles)
            known = "、".join(names) if names else "（一条也没有）"
            raise fail(f"{sources_file} 里没有名为「{rule}」的网站规则；现有：{known}", Exit.USAGE)
    declared = None
    try:
        if source.startswith(("http://", "https://")):
            fetched = fetch_url(source)
            body, url, declared = fetched.body, url or fetched.url, fetched.declared
        else:
            body = read_file(user_path(source))
    except ExtractError as exc:
        raise fail(str(exc), Exit.FAILED) from None
    try:
        result = extract_page(body, url, declared, rules=office_rules, rule=chosen, rule_name=rule)
    except ExtractError as exc:
        raise fail(f"{source}：{exc.reason}", Exit.FAILED) from None
    for note in result.notes:
        err.print(f"提示：{note}", highlight=False, markup=False, soft_wrap=True)
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if rule is not None and any(note.startswith(f"网站规则 {rule}：") for note in result.notes):
        raise typer.Exit(Exit.FAILED)


# What doctor prints for each status; `--json` keeps the machine names.
DOCTOR_MARKS = {"ok": "[green]正常[/green]", "warn": "[yellow]注意[/yellow]", "fail": "[red]故障[/red]"}


@app.command()
@demo_option
def doctor(
    as_json: Annotated[
        bool, typer.Option("--json", help="输出一个 JSON 文档（各项检查与每个来源的状态），供脚本和监控使用")
    ] = False,
) -> None:
    """检查配置、存储、预警渠道、浏览器和每个信息源的健康，指出缺什么；有故障时退出码为 1。"""
    from pipeline import clock
    from pipeline.items import SHANGHAI
    from pipeline.store import describe_store, open_store

    checks: list[dict[str, Any]] = []

    def check(status: str, name: str, detail: str) -> None:
        checks.append({"name": name, "status": status, "detail": detail})

    env = get_env()
    office = None
    try:
        office = load_config()
        check(
            "ok",
            "配置",
            f"{config_dir()}（{len(office.sources.sources)} 个来源，{len(office.rules.rules)} 条规则）",
        )
    except ConfigError as exc:
        check("fail", "配置", str(exc))
    try:
        store = open_store(env, read_only=True)
        count = store.count()
        store.close()
        check("ok", "存储", f"{describe_store(env)}，共 {count} 条帖子")
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure rather than stopping at the first
        check("fail", "存储", f"{describe_store(env)}：无法读取（{exc}）")
    from commands.cli_alerts import doctor_lines
    from pipeline.storage import doctor_lines as database_lines

    checks += [
        {"name": what, "status": "ok" if ok else "fail", "detail": detail}
        for ok, what, detail in database_lines(env)
    ]
    checks += doctor_lines(env)
    from classifiers.native import status as native_status

    compiled, said = native_status()
    check("ok" if compiled else "warn", "分析模块", said)  # slower, never wrong: a warning
    from alerts.calendar import calendar_data_ends, calendar_warning

    warning = calendar_warning(clock.now().astimezone(SHANGHAI).date())
    # A warning, not a failure: with no data the patrols fall back to more, never fewer.
    check(
        "warn" if warning else "ok",
        "节假日数据",
        warning or f"法定节假日和调休安排已知至 {calendar_data_ends():%Y-%m-%d}",
    )
    from pipeline.browser import check_browser
    from pipeline.health import source_verdicts

    # Launched for real (headless, one page): a binary that is there but cannot start is caught here.
    browser = check_browser(env)
    check("ok" if browser.ok else "fail", "浏览器", browser.detail)
    sources = source_verdicts(env, office, clock.now())
    failing = any(c["status"] == "fail" for c in checks) or any(s["status"] == "fail" for s in sources)
    if as_json:
        document = {
            "ok": not failing,
            "checked_at": clock.now().astimezone(SHANGHAI).isoformat(),
            "checks": checks,
            "sources": sources,
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    else:
        for c in checks:
            out.print(
                f"{DOCTOR_MARKS[c['status']]} {c['name']}：{c['detail']}", highlight=False, soft_wrap=True
            )
        for source in sources:
            out.print(f"{DOCTOR_MARKS[source['status']]} {source['line']}", highlight=False, soft_wrap=True)
    if failing:
        raise typer.Exit(Exit.FAILED)


@app.command()
def backup(
    out_dir: Annotated[Path | None, typer.Option("--out", help="备份存放的目录（默认 var/backups/）")] = None,
) -> None:
    """备份各数据库（SQLite 在线备份，运行中也可），文件名带北京时间；恢复方法见 README。"""
    from pipeline.storage import backup as back_up

    result = back_up(get_env(), user_path(out_dir) if out_dir else None)
    for line in result.lines:
        out.print(line, highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(Exit.FAILED)


def _command_groups() -> None:
    """The commands kept in modules of their own: delivery, the case workflow, accounts, training, the
    console."""
    from commands.cli_alerts import deliver, digest, silence_app
    from commands.cli_console import console
    from commands.cli_labels import evidence, labels_app
    from commands.cli_rules import rules_app
    from commands.cli_train import train_app
    from commands.cli_users import user_app
    from commands.cli_workflow import COMMANDS

    app.command()(demo_option(deliver))
    app.command()(demo_option(digest))
    app.add_typer(silence_app, name="silence")
    for name, command in COMMANDS.items():
        if name == "report":
            continue  # a group of its own, below
        # Everything but routing a text and the scheduler reads or acts on the data: each can run on the demo's.
        app.command(name)(command if name in ("route", "serve") else demo_option(command))
    app.add_typer(_report_group(COMMANDS), name="report")
    app.add_typer(user_app, name="user")
    app.add_typer(train_app, name="train")
    app.add_typer(rules_app, name="rules")
    app.add_typer(labels_app, name="labels")
    app.command("evidence")(demo_option(evidence))
    app.command("console")(console)


def _report_group(commands: dict[str, Any]) -> typer.Typer:
    """`yuqing report daily|special|quarterly …`, the three records an office files; `yuqing report
    --quarter …` alone is the quarterly one, as it always was."""
    import inspect

    group = typer.Typer(help="报告：舆情日志（daily）、专报（special）、季度或任一时段的通报（quarterly）")
    quarterly = demo_option(commands["report"])

    def default(ctx: typer.Context, **options: Any) -> None:
        if ctx.invoked_subcommand is None:
            quarterly(**options)

    signature = inspect.signature(quarterly)
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    default.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            context,
            *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()),
        ]
    )
    default.__doc__ = commands["report"].__doc__
    group.callback(invoke_without_command=True)(default)
    group.command("quarterly")(quarterly)
    group.command("daily")(demo_option(commands["log"]))
    group.command("special")(demo_option(commands["special"]))
    return group


# `yuqing analyze` and `yuqing extract`, the text tools scripts call line by line, start without those
# modules: they bring SQLAlchemy and Alembic, half a second of start-up. Any other command, `--help`, and
# any program importing this module get every command.
_TEXT_TOOLS = ("analyze", "extract")
_TEXT_TOOL = Path(sys.argv[0]).name in ("yuqing", "cli.py") and sys.argv[1:2] and sys.argv[1] in _TEXT_TOOLS
if not _TEXT_TOOL:
    _command_groups()


def main() -> None:
    if _TEXT_TOOL:  # they open no store, so none of its errors can arise
        app()
        return
    from pipeline.storage import storage_errors

    with storage_errors(lambda line: err.print(f"[red]错误：[/red]{line}", highlight=False, soft_wrap=True)):
        app()


if __name__ == "__main__":
    main()
