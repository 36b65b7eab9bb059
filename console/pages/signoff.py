"""Patrol sign-off: today's three checkpoints and where each stands, and the form for the latest one that
has come — each source as its last crawls left it (a failed one is not ticked for the officer), the alerts
since the previous checkpoint to review, or the zero report when there were none, and a note."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from datetime import date
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Refused, Role
from alerts.calendar import SHANGHAI
from alerts.signoffs import REMIND_DUTY_AFTER, REMIND_SUPERVISORS_AFTER, SIGNERS, ZERO_REPORT, SignOffs
from config.env import get_env
from console.web import Forbidden, Web, document_response
from pipeline.documents import daily_log_document
from pipeline.health import source_verdicts

LOG_READERS = (Role.DUTY, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)


def register(app: FastAPI, web: Web) -> None:
    @app.get("/log.docx")
    def log_document(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        """The day's 舆情日志 as the Word document `yuqing log --out` writes (today unless `date` says)."""
        # A unit gets its own log (seed 000 第八条); the office's staff the whole one, or a unit's.
        unit = account.unit if account.role is Role.UNIT else request.query_params.get("unit") or None
        if account.role not in (*LOG_READERS, Role.UNIT):
            raise Forbidden("舆情日志由值班、分析、督办、管理员和责任单位账号下载")
        asked = request.query_params.get("date", "")
        try:
            day = date.fromisoformat(asked) if asked else web.now().astimezone(SHANGHAI).date()
        except ValueError:
            raise HTTPException(400, f"日期「{asked}」应写作 2026-11-23") from None
        with web.opened() as workflow:
            document = daily_log_document(workflow, get_env(), day, unit)
        return document_response(request, document, f"{unit or ''}政务舆情日志-{day:%Y%m%d}")

    def allowed(account: Account) -> None:
        if account.role not in SIGNERS:
            raise Forbidden("巡查签收由值班员（或管理员）操作；本账号可在值班台查看巡查情况")

    def show(request: Request, status: int = 200, error: str = "", done: str = "") -> Response:
        now = web.now()
        with web.opened() as workflow:
            book = SignOffs(workflow)
            checkpoints = book.checkpoints(now.astimezone(SHANGHAI).date())
            due = book.due(now)
            fresh = book.since_previous(due) if due and due.signoff is None else []
        return web.page(
            request,
            "signoff.html",
            status=status,
            checkpoints=[(c, c.state(now)) for c in checkpoints],
            due=due if due and due.signoff is None else None,
            fresh=fresh,
            sources=source_verdicts(get_env(), web.office, now),
            zero_report=ZERO_REPORT,
            remind_duty=int(REMIND_DUTY_AFTER.total_seconds() // 60),
            remind_supervisors=int(REMIND_SUPERVISORS_AFTER.total_seconds() // 60),
            error=error,
            done=done,
        )

    @app.get("/signoff", response_class=HTMLResponse)
    def signoff_page(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        allowed(account)
        done = "已签收，已记入当日舆情日志" if request.query_params.get("done") == "1" else ""
        return show(request, done=done)

    @app.post("/signoff", response_class=HTMLResponse)
    def sign(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        checkpoint: Annotated[str, Form()],
        healthy: Annotated[list[str] | None, Form()] = None,
        reviewed: Annotated[list[str] | None, Form()] = None,
        zero: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
    ) -> Response:
        allowed(account)
        now = web.now()
        with web.opened() as workflow:
            book = SignOffs(workflow)
            due = book.due(now)
            if due is None or due.key != checkpoint:
                return show(request, 409, "该时间节点已不是当前待签收的时间节点，请看清页面后再签收")
            sources = [s["label"] for s in source_verdicts(get_env(), web.office, now) if s["configured"]]
            seen = [s for s in healthy or [] if s in sources]
            try:
                book.sign(
                    account.name,
                    due,
                    healthy=seen,
                    failed=[s for s in sources if s not in seen],
                    reviewed=reviewed or [],
                    zero_report=zero == "1",
                    note=note,
                )
            except Refused as exc:
                return show(request, 400, str(exc))
        return RedirectResponse("/signoff?done=1", status_code=303)
