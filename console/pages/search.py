"""检索: the stored posts a query in the keyword rules' syntax matches (the same parser as the rules, so an
analyst can try a rule's words here first), narrowed by time, source, county, level and sentiment, best or
newest first, with the total, a highlighted excerpt of each, and the results as CSV or Excel. For duty
staff, analysts, supervisors and administrators; a unit's account sees only its own cases, not every post."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

import csv
import io
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import QueryParams

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from alerts.rulebook import EDITORS, VERDICTS, Rulebook
from classifiers.search_query import SearchQuery, SearchQueryError, parse_search
from classifiers.tokenise import Tokeniser
from classifiers.types import Level, Polarity
from config.databases import DatabaseError
from config.env import get_env
from config.errors import ConfigError
from config.loader import config_dir, load_config
from console.web import Forbidden, Web
from pipeline.context import Context
from pipeline.errors import StoreError
from pipeline.events import with_merged
from pipeline.items import SOURCE_NAMES, source_text
from pipeline.store import open_store
from pipeline.store.base import SearchHit

PAGE = 50
# The total is counted exactly up to this many matches; beyond it the page says "more than".
COUNTED = 1000
EXPORTED = 10_000  # rows in one export at most, as `yuqing search --limit`
EXCERPT = 120  # characters of text shown around the first matched term
# The config files whose words the tokeniser is taught (as `yuqing search` reads them).
WORD_FILES = ("rules", "territory", "units")
ROLES = (Role.DUTY, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)
POLARITY_LABELS = {p.value: p.label for p in Polarity}


class _Words:
    """The office's tokeniser, built again only when one of its config files has changed."""

    def __init__(self) -> None:
        self._stamp: tuple[int, ...] | None = None
        self._tokeniser: Tokeniser | None = None

    def tokeniser(self) -> Tokeniser:
        folder = config_dir()
        stamp = tuple((folder / f"{name}.yaml").stat().st_mtime_ns for name in WORD_FILES)
        if self._tokeniser is None or stamp != self._stamp:
            office = load_config(folder, only=WORD_FILES)
            self._tokeniser, self._stamp = Context(office=office, env=get_env()).tokeniser, stamp
        return self._tokeniser


@dataclass(frozen=True, slots=True)
class Asked:
    """The search as the address states it; `problems` lists what could not be read, in words."""

    typed: str
    first: date | None
    last: date | None
    sources: list[str]
    levels: list[str]
    counties: list[str]
    polarities: list[str]
    event: str
    newest: bool
    page: int
    problems: list[str]

    def filters(self) -> dict[str, Any]:
        return {
            "since": datetime.combine(self.first, time(), SHANGHAI) if self.first else None,
            "until": datetime.combine(self.last + timedelta(days=1), time(), SHANGHAI) if self.last else None,
            "sources": self.sources,
            "levels": self.levels,
        }


def _day(text: str, name: str, problems: list[str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        problems.append(f"{name}「{text}」不是日期，应写作 2026-11-20")
        return None


def read_asked(query: QueryParams, counties: list[str]) -> Asked:
    problems: list[str] = []
    first = _day(query.get("from", ""), "起始日期", problems)
    last = _day(query.get("to", ""), "截止日期", problems)

    def chosen(key: str, known: list[str], name: str) -> list[str]:
        values = [v for v in query.getlist(key) if v]
        if unknown := [v for v in values if v not in known]:
            problems.append(f"没有{name}「{'、'.join(unknown)}」")
        return [v for v in values if v in known]

    page = query.get("page", "")
    return Asked(
        typed=query.get("q", "").strip(),
        first=first,
        last=last,
        sources=chosen("source", list(SOURCE_NAMES), "来源"),
        levels=chosen("level", [level.value for level in Level], "级别"),
        counties=chosen("county", counties, "县区"),
        polarities=chosen("sentiment", [p.value for p in Polarity], "倾向"),
        event=query.get("event", "").strip(),
        newest=query.get("sort") == "newest",
        page=int(page) if page.isdigit() and int(page) > 0 else 1,
        problems=problems,
    )


def excerpt(text: str, terms: tuple[str, ...], width: int = EXCERPT) -> list[tuple[str, bool]]:
    """About `width` characters of the text around the first matched term, as (piece, is_match) pairs, so
    the template marks the matches while escaping every piece."""
    flat = " ".join(text.split())
    lowered = flat.lower()
    found = [lowered.find(term) for term in terms if term and lowered.find(term) >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    window = flat[start : start + width]
    low = window.lower()
    marks = [False] * len(window)
    for term in terms:
        at = low.find(term) if term else -1
        while at >= 0:
            for i in range(at, min(at + len(term), len(window))):
                marks[i] = True
            at = low.find(term, at + len(term))
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    for i, ch in enumerate(window):
        if pieces and pieces[-1][1] == marks[i] and pieces[-1][0] != "…":
            pieces[-1] = (pieces[-1][0] + ch, marks[i])
        else:
            pieces.append((ch, marks[i]))
    if start + width < len(flat):
        pieces.append(("…", False))
    return pieces


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    published: str
    level: str
    counties: str
    source: str
    title: str
    url: str
    polarity: str
    event: str
    title_marks: list[tuple[str, bool]]
    text_marks: list[tuple[str, bool]]
    rules: list[tuple[str, str]]  # (rule id, its name) of the keyword rules the post matched


def row(hit: SearchHit, query: SearchQuery) -> Row:
    doc = hit.doc
    analysis = doc.get("analysis") or {}
    territory = analysis.get("territory") or {}
    terms = query.matched_terms(doc) or ()
    title = (doc.get("title") or "").strip()
    polarity = analysis.get("polarity")
    published = doc.get("published_at") or ""
    with suppress(ValueError):
        published = f"{datetime.fromisoformat(published).astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
    return Row(
        id=hit.id,
        published=published,
        level=(analysis.get("severity") or {}).get("level") or "",
        counties="、".join(territory.get("counties") or []) or (territory.get("city") or ""),
        source=source_text(doc.get("source"), doc.get("media")),
        title=title,
        url=doc.get("url") or "",
        polarity=POLARITY_LABELS.get(polarity or "", ""),
        event=analysis.get("event_id") or "",
        # A post without a title (微博, comments) is named by the start of its text.
        title_marks=excerpt(title or " ".join((doc.get("text") or "").split())[:40], terms, width=200),
        text_marks=excerpt(doc.get("text") or "", terms),
        rules=[
            (r.get("id", ""), r.get("name") or r.get("id", ""))
            for r in analysis.get("rules") or []
            if r.get("id")
        ],
    )


COLUMNS = ("发布时间", "级别", "属地", "来源", "倾向", "标题", "正文", "链接", "帖子编号", "事件编号")


def _table_rows(hits: list[SearchHit], query: SearchQuery) -> list[list[str]]:
    out = []
    for hit in hits:
        r = row(hit, query)
        out.append(
            [r.published, r.level, r.counties, r.source, r.polarity, r.title, hit.doc.get("text") or "", r.url,
             r.id, r.event]
        )  # fmt: skip
    return out


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ at the start of crawled text)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_csv(hits: list[SearchHit], query: SearchQuery) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows([[_safe_cell(cell) for cell in line] for line in _table_rows(hits, query)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets Excel read it as UTF-8


def as_xlsx(hits: list[SearchHit], query: SearchQuery) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "检索结果"
    sheet.append([f"检索式：{query.typed}"])
    sheet.append(list(COLUMNS))
    for line in _table_rows(hits, query):
        sheet.append([_safe_cell(_printable(cell)) for cell in line])
    for letter, width in zip("ABCDEFGHIJ", (17, 12, 12, 16, 6, 40, 80, 40, 24, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _printable(value: str) -> str:
    # Control characters other than tab and line breaks are refused by the xlsx format.
    return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")


def register(app: FastAPI, web: Web) -> None:
    words = _Words()
    counties = [county.name for county in web.office.territory.counties] if web.office.territory else []

    def asked_of(request: Request, account: Account) -> Asked:
        if account.role not in ROLES:
            raise Forbidden("检索仅供值班、分析、督办和管理员账号使用")
        return read_asked(request.query_params, counties)

    def run(asked: Asked, limit: int) -> tuple[SearchQuery | None, list[SearchHit], list[str]]:
        """The parsed query, its hits (at most `limit`), and what went wrong, in words."""
        problems = list(asked.problems)
        if not asked.typed or problems:
            return None, [], problems
        try:
            query = parse_search(asked.typed, words.tokeniser()).narrowed(
                counties=asked.counties,
                polarities=asked.polarities,
                events=with_merged(get_env().events_path, [asked.event] if asked.event else []),
                newest_first=asked.newest,
            )
        except SearchQueryError as exc:
            return None, [], [exc.naming(asked.typed)]
        except ConfigError as exc:
            return None, [], [f"配置文件有误，无法检索：{exc}"]
        except DatabaseError as exc:  # the event file, read to find the names an event absorbed
            return None, [], [f"无法按事件检索：{exc}"]
        try:
            store = open_store(get_env(), read_only=True)
        except StoreError as exc:
            return query, [], [f"无法打开帖子存储：{exc}"]
        try:
            return query, store.search(query, limit=limit, **asked.filters()), []
        except StoreError as exc:
            return query, [], [f"检索失败：{exc}"]
        finally:
            store.close()

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        asked = asked_of(request, account)
        query, hits, problems = run(asked, COUNTED + 1)
        shown = hits[(asked.page - 1) * PAGE : asked.page * PAGE]
        with web.opened() as workflow:
            marks = Rulebook(workflow, get_env()).marks_of([hit.id for hit in shown])
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v]
        return web.page(
            request,
            "search.html",
            asked=asked,
            problems=problems,
            searched=query is not None and not problems,
            total=min(len(hits), COUNTED),
            more=len(hits) > COUNTED,
            rows=[row(hit, query) for hit in shown] if query else [],
            marks=marks,
            verdicts=VERDICTS,
            can_mark=account.role in EDITORS,
            first_number=(asked.page - 1) * PAGE + 1,
            sources=SOURCE_NAMES,
            levels=[level.value for level in Level],
            counties=counties,
            polarities={p.value: p.label for p in Polarity},
            previous=urlencode([*kept, ("page", asked.page - 1)]) if asked.page > 1 else "",
            following=urlencode([*kept, ("page", asked.page + 1)]) if len(hits) > asked.page * PAGE else "",
            export=urlencode(kept),
        )

    @app.get("/search/export")
    def export(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        asked = asked_of(request, account)
        kind = request.query_params.get("format", "csv")
        if kind not in ("csv", "xlsx"):
            raise Forbidden("导出格式只有 csv 和 xlsx")
        query, hits, problems = run(asked, EXPORTED)
        if problems or query is None:
            return web.page(
                request,
                "error.html",
                status=400,
                title="无法导出",
                message="；".join(problems or ["请先填写检索式"]),
            )
        stamp = f"{web.now().astimezone(SHANGHAI):%Y%m%d-%H%M}"
        name = f"检索结果-{stamp}.{kind}"
        body = as_csv(hits, query) if kind == "csv" else as_xlsx(hits, query)
        media = (
            "text/csv; charset=utf-8"
            if kind == "csv"
            else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
        return Response(
            body,
            media_type=media,
            headers={
                "Content-Disposition": f"attachment; filename=\"search.{kind}\"; filename*=UTF-8''{quote(name)}"
            },
        )
