"""Cases: the list of those the account may see, and one case's page with everything it needs (its posts
with their reasons and routing, each deadline with a countdown, the full history) and the actions the
account's role allows. Every action goes through alerts.workflow.Workflow as the signed-in account, which
checks role, unit and state again; a form older than the case's last change is refused (409)."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Refused, Role
from alerts.calendar import SHANGHAI
from alerts.cases import ANSWERED, RESPONSE_KINDS, UNCLAIMED, WORKING, Case, Deadline, DeadlineKind, State
from alerts.models import Alert
from alerts.workflow import Workflow
from config.models import unit_names
from console.web import Web

# What the page says after each action (the address names the action, never the words).
DONE = {
    "claim": "已认领",
    "respond": "已记录回应",
    "extend": "已申请延期，待督办审批",
    "approve": "已批准延期",
    "deny": "已驳回延期申请",
    "reassign": "已指定认领单位",
    "close": "已办结",
    "false_alarm": "已标记为误报",
}


@dataclass(frozen=True, slots=True)
class Allowed:
    """The actions the page offers the account on a case; the workflow checks each again when taken."""

    claim: bool = False
    respond: list[DeadlineKind] | None = None
    extend: bool = False
    decide: bool = False
    reassign: bool = False
    close: bool = False
    false_alarm: bool = False

    @property
    def any(self) -> bool:
        return any(
            (self.claim, self.respond, self.extend, self.decide, self.reassign, self.close, self.false_alarm)
        )


def visible(workflow: Workflow, account: Account, case: Case) -> bool:
    """A unit's account sees only the cases it answers for; every other role sees all."""
    return account.role is not Role.UNIT or account.unit in workflow.responsible(case)


def allowed(workflow: Workflow, account: Account, case: Case) -> Allowed:
    open_kinds = [
        d.kind
        for d in workflow.deadlines(case.id, status="open")
        if d.kind in RESPONSE_KINDS and d.round == case.round
    ]
    pending = any(e.status == "pending" for e in workflow.extensions(case.id))
    settled = case.state in (State.CLOSED, State.FALSE_ALARM)
    if account.role is Role.SUPERVISOR:
        return Allowed(
            respond=open_kinds if case.owner and case.state in (*WORKING, State.RESPONDED) else None,
            decide=pending,
            reassign=case.state in UNCLAIMED or case.state in WORKING,
            close=not settled,
            false_alarm=case.state is not State.FALSE_ALARM,
        )
    if account.role is Role.UNIT:
        mine = case.owner is not None and case.owner == account.unit
        claimable = case.state in UNCLAIMED or (case.state is State.REOPENED and case.owner is None)
        return Allowed(
            claim=claimable and account.unit in case.expected,
            respond=(open_kinds or [DeadlineKind.RESPONSE])
            if mine and case.state in (*WORKING, State.RESPONDED)
            else None,
            extend=mine and case.state in WORKING and bool(open_kinds),
            close=mine and case.state is State.RESPONDED,
        )
    return Allowed()


@dataclass(frozen=True, slots=True)
class Row:
    """A case as lists show it: its nearest open deadline and whether one has passed."""

    case: Case
    next: Deadline | None
    late: bool


def listed(workflow: Workflow, wanted: Callable[[Case], bool], *, show_all: bool = False) -> list[Row]:
    """The cases `wanted` keeps, open ones only unless `show_all` (answered ones that are late too):
    late first, then by the nearest deadline, louder first. A case only a silence's held-back alerts stand
    for was put to nobody yet, and is left out as `yuqing cases` leaves it out."""
    if not workflow.read_only:
        workflow.sync()
    late = workflow.overdue()
    untold = workflow.untold_cases()
    rows = []
    for case in workflow.cases():
        if case.id in untold or not wanted(case):
            continue
        if not show_all and case.state in ANSWERED and case.id not in late:
            continue
        open_ = sorted(
            (d for d in workflow.deadlines(case.id, status="open") if d.round == case.round),
            key=lambda d: d.due_at,
        )
        rows.append(Row(case, open_[0] if open_ else None, case.id in late))
    far = datetime.max.replace(tzinfo=SHANGHAI)
    rows.sort(key=lambda row: (not row.late, row.next.due_at if row.next else far, -row.case.level.rank))
    return rows


def version(workflow: Workflow, case: Case) -> str:
    """What a form was drawn from: the case's history so far. Any action since makes it stale."""
    return str(len(workflow.history(case.id)))


def _alerts(workflow: Workflow, case: Case) -> list[Alert]:
    found = [workflow.outbox.alert(key) for _case, key in workflow.records.alert_keys(case.id)]
    alerts = [a for a in found if a is not None]
    alerts.sort(key=lambda a: a.created_at)
    return alerts


def _until(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def register(app: FastAPI, web: Web) -> None:
    def load(workflow: Workflow, account: Account, key: str) -> Case:
        try:
            case = workflow.find(key)
        except Refused:
            raise HTTPException(404) from None
        if not visible(workflow, account, case):
            raise HTTPException(404)  # the same answer as for a case that does not exist
        return case

    def show(
        request: Request, workflow: Workflow, account: Account, case: Case, status: int = 200, error: str = ""
    ) -> Response:
        deadlines = workflow.deadlines(case.id)
        deadlines.sort(key=lambda d: (d.round, d.due_at))
        return web.page(
            request,
            "case.html",
            status=status,
            case=case,
            alerts=_alerts(workflow, case),
            deadlines=deadlines,
            history=workflow.history(case.id),
            extensions=workflow.extensions(case.id),
            lapses=workflow.lapses(case.id),
            responsible=workflow.responsible(case),
            allowed=allowed(workflow, account, case),
            version=version(workflow, case),
            units=sorted(unit_names(web.office.units, web.office.territory))
            if account.role is Role.SUPERVISOR
            else [],
            done=DONE.get(request.query_params.get("done", ""), ""),
            error=error,
        )

    @app.get("/cases", response_class=HTMLResponse)
    def case_list(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        show_all = request.query_params.get("all") == "1"
        with web.opened() as workflow:
            rows = listed(workflow, lambda case: visible(workflow, account, case), show_all=show_all)
        return web.page(request, "cases.html", rows=rows, show_all=show_all)

    @app.get("/cases/{key:path}", response_class=HTMLResponse)
    def case_page(
        request: Request, key: str, account: Annotated[Account, Depends(web.signed_in)]
    ) -> Response:
        with web.opened() as workflow:
            if not workflow.read_only:
                workflow.sync()
            case = load(workflow, account, key)
            return show(request, workflow, account, case)

    @app.post("/cases/{key:path}", response_class=HTMLResponse)
    def act(
        request: Request,
        key: str,
        account: Annotated[Account, Depends(web.signed_in)],
        action: Annotated[str, Form()],
        drawn: Annotated[str, Form(alias="version")] = "",
        kind: Annotated[str, Form()] = "",
        url: Annotated[str, Form()] = "",
        until: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        to: Annotated[str, Form()] = "",
        decision: Annotated[str, Form()] = "",
    ) -> Response:
        with web.opened() as workflow:
            case = load(workflow, account, key)
            if drawn != version(workflow, case):
                last = workflow.history(case.id)[-1]
                who = f"{last.actor}（{last.unit}）" if last.unit else last.actor
                message = (
                    f"提交未执行：页面打开后，{who} 已于 {last.at.astimezone(SHANGHAI):%H:%M} "
                    f"{last.note or last.to_state.label}，案件现为「{case.state.label}」。请看清最新情况后再操作。"
                )
                return show(request, workflow, account, case, 409, message)
            name = account.name
            try:
                if action == "claim":
                    done = workflow.claim(case.id, actor=name)
                elif action == "respond":
                    done = workflow.respond(case.id, kind=DeadlineKind.parse(kind), actor=name, url=url)
                elif action == "extend":
                    done = workflow.request_extension(case.id, until=_until(until), reason=reason, actor=name)
                elif action == "decide" and decision in ("approve", "deny"):
                    action = decision
                    done = workflow.decide_extension(case.id, actor=name, approve=decision == "approve")
                elif action == "reassign":
                    done = workflow.reassign(case.id, to=to, actor=name, reason=reason)
                elif action == "close":
                    done = workflow.close_case(case.id, actor=name, note=reason)
                elif action == "false_alarm":
                    done = workflow.mark_false_alarm(case.id, actor=name, reason=reason)
                else:
                    raise HTTPException(400)
            except ValueError:
                message = "时间或回应类型填写有误：时间请写成 2026-11-23 18:00 的样子（北京时间）。"
                return show(request, workflow, account, case, 400, message)
            except Refused as exc:
                return show(request, workflow, account, workflow.get(case.id) or case, 403, str(exc))
        return RedirectResponse(f"/cases/{quote(done.short_id)}?done={action}", status_code=303)
