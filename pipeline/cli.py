"""`yuqing`: patrol, demo, search, analyze and doctor. Errors at this edge become one clear line and a
non-zero exit; nothing is written before the config has been checked."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from config.env import PROJECT_ROOT, get_env
from config.errors import ConfigError, YuqingError
from config.loader import config_dir, load_config
from config.secrets import install_log_masking

app = typer.Typer(add_completion=False, no_args_is_help=True, help="政务舆情监测：巡查、分析、检索与预警")
out = Console()
err = Console(stderr=True)

RECORDINGS = PROJECT_ROOT / "tests" / "fixtures"
# The moment the shipped recordings were made: the demo runs its clock there so ages and rates are real.
DEMO_NOW = "2026-11-23T09:00:00+08:00"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _load_office():
    try:
        return load_config()
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@app.callback()
def _setup(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what each part does")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    install_log_masking()  # no configured secret in any log line, whatever the command


def _print_patrol(report: Any, title: str) -> None:
    table = Table(title=title)
    for column in ("来源", "结束", "健康", "采集", "丢弃", "入库", "暂存", "预警", "问题"):
        table.add_column(column)
    for run in report.runs:
        problems = {**run.drop_reasons(), **run.source_problems()}
        table.add_row(
            run.source,
            run.finish_reason,
            run.health if run.health in ("ok", "unknown") else f"[red]{run.health}[/red]",
            str(run.items),
            str(run.dropped),
            str(run.stat("yuqing/index/written")),
            str(run.stat("yuqing/index/spooled")),
            str(run.stat("yuqing/alert/raised")),
            ", ".join(f"{k}={v}" for k, v in problems.items()) or "-",
        )
    out.print(table)
    if report.stopped:
        err.print(f"[red]错误：[/red]{report.stopped}", highlight=False, soft_wrap=True)
    rate = report.items / report.seconds if report.seconds else 0.0
    out.print(
        f"巡查完成：{report.items} 条，用时 {report.seconds:.1f} 秒（{rate:.1f} 条/秒）；"
        f"新预警 {report.alerts_raised} 条，送达 {report.dispatch.sent} 次，失败 {report.dispatch.failed} 次"
    )


@app.command()
def patrol(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="only these sources")] = None,
) -> None:
    """One patrol over the configured sources: crawl, analyse, store, alert."""
    from pipeline.patrol import run_patrol

    office = _load_office()
    report = run_patrol(office, get_env(), only=source)
    _print_patrol(report, "巡查")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def demo(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="only these sources")] = None,
) -> None:
    """The same patrol, offline, against a local server replaying recorded pages."""
    from pipeline.patrol import run_patrol
    from pipeline.replay import ReplayServer

    office = _load_office()
    env = get_env()
    demo_dir = env.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # each demo starts as a first patrol
    dirs = sorted(index.parent for index in RECORDINGS.glob("*/index.json"))
    if not dirs:
        raise _fail(f"no recordings for the demo under {RECORDINGS}")
    with ReplayServer(*dirs) as server:
        extra = {
            "YUQING_REPLAY_URL": server.base_url,
            "YUQING_NOW": os.environ.get("YUQING_NOW", DEMO_NOW),
            "YUQING_STATE_DIR": str(demo_dir / "state"),
            "YUQING_OUTBOX": str(demo_dir / "alerts.sqlite3"),
        }
        os.environ.update(extra)
        get_env.cache_clear()
        report = run_patrol(office, get_env(), only=source, extra_env=extra)
    _print_patrol(report, f"演示巡查（回放 {server.base_url}）")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="words to find, e.g. 化工厂 排污")],
    limit: Annotated[int, typer.Option(help="how many results")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document per line")] = False,
) -> None:
    """Find stored posts; the query is cut into words the same way posts are."""
    from pipeline.context import Context
    from pipeline.store import open_store

    office = _load_office()
    env = get_env()
    terms = Context(office=office, env=env).tokeniser.query_terms(query)
    if not terms:
        raise _fail(f"the query {query!r} has no words to search for")
    try:
        store = open_store(env, read_only=True)
        hits = store.search(terms, limit=limit)
        store.close()
    except YuqingError as exc:
        raise _fail(str(exc), 1) from None
    if as_json:
        for hit in hits:
            sys.stdout.write(json.dumps(hit.doc, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"检索「{query}」：{len(hits)} 条")
    for column in ("时间", "级别", "属地", "标题", "来源"):
        table.add_column(column)
    for hit in hits:
        doc = hit.doc
        analysis = doc.get("analysis") or {}
        severity = (analysis.get("severity") or {}).get("level", "")
        territory = analysis.get("territory") or {}
        where = "、".join(territory.get("counties") or []) or (territory.get("city") or "")
        table.add_row(
            doc.get("published_at", "")[:16], severity, where, doc.get("title") or "", doc.get("url", "")
        )
    out.print(table)


def _analysis_output(post: Any) -> dict[str, Any]:
    from pipeline.items import to_dict

    a = to_dict(post.analysis)
    territory = a["territory"] or {}
    responsible = a["responsible"] or {}
    return {
        "id": post.id,
        "tokens": a["words"],
        "sentiment": a["sentiment"],
        "polarity": a["polarity"],
        "sentiment_reasons": a["sentiment_reasons"],
        "rules": a["rules"],
        "severity": a["severity"],
        "territory": {
            k: territory.get(k)
            for k in ("province", "city", "counties", "townships", "confidence", "reasons")
        },
        "departments": a["departments"],
        "responsible": {
            k: responsible.get(k, []) for k in ("first", "coordinate", "claim", "inform", "reasons")
        },
        "spam": a["spam"],
        "spam_reasons": a["spam_reasons"],
    }


@app.command()
def analyze() -> None:
    """Read posts as JSON lines on stdin; write one JSON line of enrichment per input line."""
    from pipeline.context import Context
    from pipeline.runner import OfflineRunner, run_json_lines

    office = _load_office()
    runner = OfflineRunner(Context(office=office, env=get_env()))
    failures = 0
    for number, outcome in run_json_lines(sys.stdin, runner, "analyze"):
        if isinstance(outcome, str):
            failures += 1
            result: dict[str, Any] = {"line": number, "error": outcome}
        else:
            result = {"line": number, **_analysis_output(outcome)}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} line(s) could not be analysed")


@app.command()
def extract(
    source: Annotated[str, typer.Argument(help="a saved page (file) or an http(s) URL to fetch")],
    url: Annotated[
        str | None, typer.Option(help="the page's address, for a file: picks the site's rules")
    ] = None,
) -> None:
    """Read one news page: title, text, time, media and author as JSON (any charset, even mislabelled)."""
    from pathlib import Path

    from pipeline.extract import ExtractError
    from pipeline.extract import extract as extract_page

    declared = None
    if source.startswith(("http://", "https://")):
        import requests

        try:
            answer = requests.get(source, timeout=(10, 30), headers={"User-Agent": "Mozilla/5.0 yuqing"})
            answer.raise_for_status()
        except requests.RequestException as exc:
            raise _fail(f"{source}: could not fetch: {exc}", 1) from None
        body, url = answer.content, url or answer.url
        # Only a charset the server states; requests guesses ISO-8859-1 for any bare text/html.
        declared = answer.encoding if "charset" in answer.headers.get("Content-Type", "").lower() else None
    else:
        path = Path(source)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise _fail(f"{source}: cannot read the file: {exc.strerror or exc}", 1) from None
    try:
        result = extract_page(body, url, declared)
    except ExtractError as exc:
        raise _fail(f"{source}: {exc.reason}", 1) from None
    for note in result.notes:
        err.print(f"note: {note}", highlight=False, markup=False)
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")


@app.command()
def doctor() -> None:
    """Check config, store, browser and recent runs; say exactly what is missing."""
    from pipeline.store import describe_store, open_store

    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += not ok
        mark = "[green]ok[/green]  " if ok else "[red]FAIL[/red]"
        out.print(f"{mark} {what}: {detail}", highlight=False)

    env = get_env()
    office = None
    try:
        office = load_config()
        report(
            True,
            "config",
            f"{config_dir()} ({len(office.sources.sources)} sources, {len(office.rules.rules)} rules)",
        )
    except ConfigError as exc:
        report(False, "config", str(exc))
    try:
        store = open_store(env, read_only=True)
        count = store.count()
        store.close()
        report(True, "store", f"{describe_store(env)}, {count} posts")
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure rather than stopping at the first
        report(False, "store", f"{describe_store(env)}: {exc}")
    from pipeline.cli_alerts import doctor_lines
    from pipeline.storage import doctor_lines as database_lines

    for ok, what, detail in [*database_lines(env), *doctor_lines(env)]:
        report(ok, what, detail)
    from pipeline.cli_workflow import calendar_line

    calendar_ok, calendar_detail = calendar_line()
    if calendar_ok:
        report(True, "calendar", calendar_detail)
    else:  # a warning, not a failure: with no data the patrols fall back to more, never fewer
        out.print(f"[yellow]WARN[/yellow] calendar: {calendar_detail}", highlight=False)
    from pipeline.browser import check_browser

    # Launched for real (headless, one page): a binary that is there but cannot start is caught here.
    browser = check_browser(env)
    report(browser.ok, "browser", browser.detail)
    runs = (
        sorted(env.runs_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)[-5:]
        if env.runs_dir.exists()
        else []
    )
    for path in runs:
        record = json.loads(path.read_text(encoding="utf-8"))
        stats = record.get("stats", {})
        ok = record.get("finish_reason") == "finished" and stats.get("item_scraped_count", 0) > 0
        report(
            ok,
            f"last run {record.get('source')}",
            f"{record.get('finished_at', '')[:19]} {record.get('finish_reason')} {stats.get('item_scraped_count', 0)} items",
        )
    for ok, what, detail in _health_lines(env, office):
        if ok is None:
            out.print(f"[yellow]WARN[/yellow] {what}: {detail}", highlight=False)
        else:
            report(ok, what, detail)
    if problems:
        raise typer.Exit(1)


@app.command()
def backup(
    out_dir: Annotated[Path | None, typer.Option("--out", help="备份存放的目录（默认 var/backups/）")] = None,
) -> None:
    """备份各数据库（SQLite 在线备份，运行中也可），文件名带北京时间；恢复方法见 README。"""
    from pipeline.storage import backup as back_up

    result = back_up(get_env(), out_dir)
    for line in result.lines:
        out.print(line, highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)


def _health_lines(env: Any, office: Any) -> list[tuple[bool | None, str, str]]:
    """Each source's health as its last crawls left it: ok, or the reason, since when and how many crawls
    in a row; None for a source never crawled yet."""
    from pipeline.health import ADVICE, health_dir, load_states

    states = load_states(health_dir(env))
    configured = [s.name for s in office.sources.sources if s.enabled] if office else []
    lines: list[tuple[bool | None, str, str]] = []
    for name in dict.fromkeys([*configured, *states]):
        state = states.get(name)
        if state is None:
            lines.append((None, f"source {name}", "not crawled yet"))
            continue
        since = state.since[:16].replace("T", " ")
        if state.ok:
            lines.append((True, f"source {name}", f"ok since {since} ({state.runs} crawls)"))
        else:
            advice = ADVICE.get(state.state, "")
            detail = f"{state.state} since {since} ({state.runs} crawls in a row): {state.detail}; {advice}"
            lines.append((False, f"source {name}", detail))
    return lines


def _alert_commands() -> None:
    from pipeline.cli_alerts import deliver, digest, silence_app

    app.command()(deliver)
    app.command()(digest)
    app.add_typer(silence_app, name="silence")


_alert_commands()


def _workflow_commands() -> None:
    from pipeline.cli_workflow import COMMANDS

    for name, command in COMMANDS.items():
        app.command(name)(command)


_workflow_commands()


def main() -> None:
    from pipeline.storage import storage_errors

    with storage_errors(lambda line: err.print(f"[red]错误：[/red]{line}", highlight=False, soft_wrap=True)):
        app()


if __name__ == "__main__":
    main()
