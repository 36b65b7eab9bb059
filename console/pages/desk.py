"""The duty desk: every alert of the last 30 days the account may see, loudest first, and one alert's page."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account
from alerts.cases import Case
from alerts.models import Alert
from alerts.workflow import Workflow
from console.web import LOUDEST_FIRST, Web

RECENT = timedelta(days=30)  # how far back the duty desk lists alerts
LIMIT = 300


def rows(web: Web, workflow: Workflow, account: Account) -> list[tuple[Alert, Case | None]]:
    """The alerts of the last 30 days the account may see, each with its case, loudest and newest first."""
    if not workflow.read_only:
        workflow.sync()  # the cases of alerts `serve` raised a moment ago, opened as `cases` would
    found = []
    for alert in workflow.outbox.alerts(since=workflow.now() - RECENT):
        owner = workflow.records.case_of_alert(alert.key)
        case = workflow.get(owner) if owner else None
        if web.scoped(account, alert, case):
            found.append((alert, case))
    found.sort(key=lambda pair: (-pair[0].level.rank, -pair[0].created_at.timestamp()))
    return found


def register(app: FastAPI, web: Web) -> None:
    @app.get("/")
    def home(account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        return RedirectResponse("/desk", status_code=303)

    @app.get("/desk", response_class=HTMLResponse)
    def desk(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        chosen = [lv for lv in LOUDEST_FIRST if lv.value in request.query_params.getlist("level")]
        with web.opened() as workflow:
            every = rows(web, workflow, account)
        counts = {lv: sum(1 for a, _ in every if a.level is lv) for lv in LOUDEST_FIRST}
        shown = [(a, c) for a, c in every if not chosen or a.level in chosen][:LIMIT]
        return web.page(
            request,
            "desk.html",
            alerts=shown,
            total=len(every),
            counts=counts,
            levels=LOUDEST_FIRST,
            chosen=chosen,
        )

    @app.get("/alerts/{key:path}", response_class=HTMLResponse)
    def alert_page(
        request: Request, key: str, account: Annotated[Account, Depends(web.signed_in)]
    ) -> Response:
        with web.opened() as workflow:
            alert = workflow.outbox.alert(key)
            owner = workflow.records.case_of_alert(key) if alert else None
            case = workflow.get(owner) if owner else None
        if alert is None or not web.scoped(account, alert, case):
            # The same answer for a key that does not exist and one the unit may not see.
            raise HTTPException(404)
        return web.page(request, "alert.html", alert=alert, case=case)
