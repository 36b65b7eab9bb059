"""The duty desk: every alert of the last 30 days the account may see, loudest first, filtered by level,
county, source and the state of its case (all in the address, so a bookmark or the back button keeps
them); each source's health as its last crawls left it; today's checkpoints and when their patrols ran;
and one alert's page. The live feed (console/pages/live.py) tells the page when to fetch its table again."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account
from alerts.calendar import SHANGHAI, Cadence
from alerts.cases import ANSWERED, UNCLAIMED, Case, State
from alerts.models import Alert
from alerts.workflow import Workflow
from config.env import get_env
from console.web import LOUDEST_FIRST, Web
from pipeline.health import read_checkpoint_runs, source_verdicts

RECENT = timedelta(days=30)  # how far back the duty desk lists alerts
LIMIT = 300
CHECKPOINT_NAMES = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
# A checkpoint's patrol that has not ended this long after its time is shown as not patrolled.
PATROL_GRACE = timedelta(minutes=30)

# The state filter: what a duty officer asks of a case, each a set of the workflow's states.
STATES: dict[str, tuple[str, frozenset[State | None]]] = {
    "unclaimed": ("待认领", frozenset(UNCLAIMED)),
    "working": (
        "办理中",
        frozenset({State.CLAIMED, State.FIRST_RELEASE, State.REOPENED, State.EXTENSION_REQUESTED}),
    ),
    "answered": ("已回应或办结", frozenset(ANSWERED - {State.FALSE_ALARM})),
    "false_alarm": ("误报", frozenset({State.FALSE_ALARM})),
    "none": ("未立案", frozenset({None})),
}


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


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    at: datetime
    ended: datetime | None  # when its patrol ended; None: no record
    ok: bool

    def status(self, now: datetime) -> tuple[str, str]:
        """(css class, words) for the desk."""
        if self.ended is not None:
            words = f"已巡查，{self.ended.astimezone(SHANGHAI):%H:%M} 结束"
            return ("ok", words) if self.ok else ("fail", words + "，巡查出错")
        if now < self.at:
            return "later", "未到"
        if now < self.at + PATROL_GRACE:
            return "later", "巡查中或即将开始"
        return "fail", "未见巡查记录（serve 是否在运行？）"


def checkpoints(web: Web, now: datetime) -> list[Checkpoint]:
    """Today's checkpoints (Beijing time) with their patrols as `serve` recorded them."""
    today = now.astimezone(SHANGHAI).date()
    times = Cadence.from_schedule(web.office.schedule).checkpoint_times(today)
    names = [
        CHECKPOINT_NAMES[n] for n, _ in sorted(web.office.schedule.checkpoints.items(), key=lambda i: i[1])
    ]
    runs = read_checkpoint_runs(get_env().serve_state_path)
    shown = []
    for name, at in zip(names, times, strict=True):
        ended, ok = runs.get(at, (None, False))
        shown.append(Checkpoint(name, at, ended, ok))
    return shown


def health(web: Web, now: datetime) -> list[dict[str, Any]]:
    """Each source's verdict, as `yuqing doctor` gives it: 正常 only after a good crawl within a day."""
    return source_verdicts(get_env(), web.office, now)


def register(app: FastAPI, web: Web) -> None:
    @app.get("/")
    def home(account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        return RedirectResponse("/desk", status_code=303)

    @app.get("/desk", response_class=HTMLResponse)
    def desk(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        query = request.query_params
        chosen = [lv for lv in LOUDEST_FIRST if lv.value in query.getlist("level")]
        county, source, state = query.get("county", ""), query.get("source", ""), query.get("state", "")
        with web.opened() as workflow:
            every = rows(web, workflow, account)
        counts = {lv: sum(1 for a, _ in every if a.level is lv) for lv in LOUDEST_FIRST}
        wanted = STATES.get(state, ("", frozenset()))[1]
        shown = [
            (a, c)
            for a, c in every
            if (not chosen or a.level in chosen)
            and (not county or county in a.counties)
            and (not source or a.source == source)
            and (not state or (c.state if c else None) in wanted)
        ][:LIMIT]
        now = web.now()
        return web.page(
            request,
            "desk.html",
            alerts=shown,
            total=len(every),
            counts=counts,
            levels=LOUDEST_FIRST,
            chosen=chosen,
            county=county,
            source=source,
            state=state,
            counties=[c.name for c in web.office.territory.counties],
            sources=sorted({a.source for a, _ in every}),
            states={key: label for key, (label, _) in STATES.items()},
            health=health(web, now),
            checkpoints=[(cp, *cp.status(now)) for cp in checkpoints(web, now)],
            filtered=bool(chosen or county or source or state),
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
