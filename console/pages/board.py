"""Chasing the cases: the supervisors' board (what is overdue and unclaimed, the extension requests
waiting, each unit's on-time record this quarter, the lapses on record) and a unit's inbox (its open
cases, nearest deadline first, and its own record this quarter). The quarter's figures are those of the
quarterly 通报 (alerts.records.assess), not a second count."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from alerts.cases import UNCLAIMED, WORKING, Case, State
from alerts.records import Assessment, UnitRecord, assess, quarter_bounds
from alerts.workflow import Workflow
from config.models import unit_names
from console.pages.cases import listed
from console.web import Forbidden, Web, document_response
from pipeline.documents import bulletin_document

CHASERS = (Role.SUPERVISOR, Role.ADMIN)
# The inbox's tabs: a name in the address, its words, the states it holds.
TABS: dict[str, tuple[str, frozenset[State]]] = {
    "unclaimed": ("待认领", frozenset(UNCLAIMED)),
    "working": ("办理中", frozenset(WORKING)),
    "extension": ("延期待批", frozenset({State.EXTENSION_REQUESTED})),
    "answered": ("已回应", frozenset({State.RESPONDED})),
}


def this_quarter(workflow: Workflow, now: datetime) -> Assessment:
    local = now.astimezone(SHANGHAI)
    start, end, title = quarter_bounds(f"{local.year}Q{(local.month - 1) // 3 + 1}")
    return assess(workflow, start, end, title)


def rate(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def register(app: FastAPI, web: Web) -> None:
    web.templates.env.globals["rate"] = rate

    @app.get("/bulletin.docx")
    def bulletin(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        """This quarter's 通报 (or `quarter=2026Q4`'s) as the Word document `yuqing report --out` writes."""
        if account.role not in CHASERS:
            raise Forbidden("季度通报由督办（市委宣传部、市政府办）和管理员账号下载")
        asked = request.query_params.get("quarter", "")
        with web.opened() as workflow:
            try:
                if asked:
                    start, end, title = quarter_bounds(asked)
                    assessment = assess(workflow, start, end, title)
                else:
                    assessment = this_quarter(workflow, web.now())
            except ValueError as exc:
                raise HTTPException(400, str(exc)) from None
            document = bulletin_document(workflow, assessment)
        return document_response(request, document, f"{assessment.title}政务舆情认领回应情况通报")

    @app.get("/board", response_class=HTMLResponse)
    def board(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        if account.role not in CHASERS:
            raise Forbidden("督办看板仅供督办（市委宣传部、市政府办）和管理员账号使用")
        with web.opened() as workflow:
            rows = listed(workflow, lambda case: True)
            extensions = [e for e in workflow.extensions() if e.status == "pending"]
            cases = {c.id: c for c in workflow.cases()}
            quarter = this_quarter(workflow, web.now())
        return web.page(
            request,
            "board.html",
            late=[r for r in rows if r.late],
            unclaimed=[r for r in rows if r.case.state in UNCLAIMED and not r.late],
            extensions=[(e, cases.get(e.case_id)) for e in extensions],
            quarter=quarter,
            units=sorted(quarter.units, key=lambda u: (-u.overdue, u.unit)),
        )

    @app.get("/inbox", response_class=HTMLResponse)
    def inbox(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        known = unit_names(web.office.units, web.office.territory)
        if account.role is Role.UNIT:
            unit = account.unit or ""
            if request.query_params.get("unit", unit) != unit:
                raise HTTPException(404)  # another unit's inbox: as if there were none
        elif account.role in CHASERS:
            unit = request.query_params.get("unit", "")
            if unit and unit not in known:
                raise HTTPException(404)
        else:
            raise Forbidden("单位待办供责任单位账号使用；督办和管理员可查看各单位的待办")
        tab = request.query_params.get("tab", "")
        states = TABS[tab][1] if tab in TABS else None

        def mine(case: Case) -> bool:
            return unit in workflow.responsible(case) and (states is None or case.state in states)

        with web.opened() as workflow:
            rows = listed(workflow, mine) if unit else []
            record = next(
                (u for u in this_quarter(workflow, web.now()).units if u.unit == unit), UnitRecord(unit)
            )
        return web.page(
            request,
            "inbox.html",
            unit=unit,
            units=sorted(known) if account.role in CHASERS else [],
            rows=rows,
            tab=tab,
            tabs={key: label for key, (label, _) in TABS.items()},
            record=record,
        )
