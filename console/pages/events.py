"""事件: one event's posts by source over time (a volume curve drawn on the server, with its figures as a
table), the counties concerned, the repost chains Weibo gives, and its alerts with their cases and every
step of their handling."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from config.env import get_env
from console.web import Forbidden, Web, document_response
from pipeline.documents import special_report_document
from pipeline.errors import StoreError
from pipeline.events import EventStore
from pipeline.items import source_name
from pipeline.store import open_store

READERS = (Role.DUTY, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)
SHOWN = 300  # posts listed at most (the curve counts them all)
WIDTH, HEIGHT, PAD = 720, 200, 36
COLOURS = ("#b3261e", "#1f5fa8", "#1e6b34", "#8a5a00", "#6b2fa0", "#00707a", "#5b5b5b")


@dataclass(frozen=True, slots=True)
class Line:
    source: str
    colour: str
    points: str  # the SVG polyline's points
    counts: list[int]


@dataclass(frozen=True, slots=True)
class Curve:
    hours: list[datetime]  # the start of each hour bucket, Beijing time
    lines: list[Line]
    top: int
    ticks: list[tuple[float, str]]  # (x, label) under the axis


def curve(posts: list[tuple[str, str, datetime]]) -> Curve | None:
    """Posts per hour and source, from the first post's hour to the last's (at most a week of hours)."""
    if not posts:
        return None
    first = min(at for _, _, at in posts).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    last = max(at for _, _, at in posts).astimezone(SHANGHAI)
    span = min(int((last - first) / timedelta(hours=1)) + 1, 7 * 24)
    hours = [first + timedelta(hours=i) for i in range(span)]
    by_source: dict[str, Counter[int]] = {}
    for _, source, at in posts:
        index = min(int((at.astimezone(SHANGHAI) - first) / timedelta(hours=1)), span - 1)
        by_source.setdefault(source, Counter())[index] += 1
    top = max(max(c.values()) for c in by_source.values())
    step = (WIDTH - 2 * PAD) / max(span - 1, 1)

    def y(count: int) -> float:
        return HEIGHT - PAD - count / top * (HEIGHT - 2 * PAD)

    lines = []
    for n, (source, counter) in enumerate(sorted(by_source.items())):
        counts = [counter.get(i, 0) for i in range(span)]
        points = " ".join(f"{PAD + i * step:.1f},{y(c):.1f}" for i, c in enumerate(counts))
        lines.append(Line(source_name(source), COLOURS[n % len(COLOURS)], points, counts))
    every = max(1, span // 6)
    ticks = [(PAD + i * step, f"{hours[i]:%m-%d %H时}") for i in range(0, span, every)]
    return Curve(hours, lines, top, ticks)


def chains(docs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The event's Weibo reposts as chains, each from the post forwarded to the last repost seen."""
    by_id = {doc["id"]: doc for doc in docs}
    reposts = [doc for doc in docs if doc.get("repost_of")]
    found = []
    for doc in reposts:
        if any(other.get("repost_of") == doc["id"] for other in reposts):
            continue  # not the end of a chain
        chain = [doc]
        while (parent := chain[-1].get("repost_of")) and parent not in [d["id"] for d in chain]:
            chain.append(by_id.get(parent) or {"id": parent, "text": "（原帖未入库）"})
        found.append(chain[::-1])
    return found


def register(app: FastAPI, web: Web) -> None:
    @app.get("/report.docx")
    def special_report(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        """The event's 专报 as the Word document `yuqing special` writes."""
        if account.role not in READERS:
            raise Forbidden("专报由值班、分析、督办和管理员账号下载")
        event_id = request.query_params.get("event", "")
        with web.opened() as workflow:
            document = special_report_document(workflow, get_env(), event_id)
        if document is None:
            raise HTTPException(404)
        return document_response(request, document, "舆情专报")

    @app.get("/events/{event_id:path}", response_class=HTMLResponse)
    def event(
        request: Request, event_id: str, account: Annotated[Account, Depends(web.signed_in)]
    ) -> Response:
        if account.role not in READERS:
            raise Forbidden("事件详情仅供值班、分析、督办和管理员账号查看")
        env = get_env()
        events = EventStore(env.events_path)
        try:
            if (current := events.current(event_id)) != event_id:
                # Found to be part of another event (a case or a link may keep the old id): shown as that.
                return RedirectResponse(request.url_for("event", event_id=current), status_code=303)
            posts = events.posts_of(event_id)
            totals = events.totals(event_id) if posts else None
        finally:
            events.close()
        if not posts:
            raise HTTPException(404)
        docs: list[dict[str, Any]] = []
        problem = ""
        try:
            store = open_store(env, read_only=True)
            try:
                docs = [doc for post_id, _, _ in posts[:SHOWN] if (doc := store.get(post_id))]
            finally:
                store.close()
        except StoreError as exc:
            problem = f"无法读取帖子：{exc}"
        with web.opened() as workflow:
            raised = [a for a in workflow.outbox.alerts() if a.event_id == event_id]
            cases = {}
            for alert in raised:
                owner = workflow.records.case_of_alert(alert.key)
                if owner and owner not in cases and (case := workflow.get(owner)) is not None:
                    cases[owner] = (case, workflow.history(owner))
        return web.page(
            request,
            "event.html",
            event_id=event_id,
            report_query=urlencode({"event": event_id}),
            totals=totals,
            sources=[source_name(s) for s in totals.sources] if totals else [],
            posts=posts,
            docs=docs,
            shown=SHOWN,
            problem=problem,
            curve=curve(posts),
            chains=chains(docs),
            alerts=raised,
            cases=list(cases.values()),
            width=WIDTH,
            height=HEIGHT,
            pad=PAD,
            source_name=source_name,
        )
