"""What every page of the console shares: the templates, the signed session and its account, the CSRF
token, the per-request alerts database and the unit scope. Page modules (console/pages/) take one `Web`
and add their routes to the app."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() on these methods at definition.

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from alerts.cases import HISTORY_LABELS, Case
from alerts.models import Alert
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from config.models import OfficeConfig
from console import assets
from console.passwords import credentials
from console.sessions import ABSOLUTE, COOKIE, PRE_COOKIE, Signer

HERE = Path(__file__).resolve().parent
ORIGIN = "web"  # how the audit trail names an action taken in the console
# Sent by the pages' own refreshes (the live feed), which a person did not ask for: they do not keep an
# idle session alive.
BACKGROUND = "X-Yuqing-Background"

LEVEL_CLASS = {
    Level.MAJOR_EMERGENCY: "major",
    Level.SENSITIVE: "sensitive",
    Level.HOT_TOPIC: "hot",
    Level.GENERAL: "general",
}
LOUDEST_FIRST = sorted(Level, key=lambda level: -level.rank)
# What a case's history calls each step; the system's own steps beside the people's actions.


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def document_response(request: Request, document: bytes, name: str) -> Response:
    """A record as a download: the Word document, or (`format=pdf`) the same laid out as PDF. `name` is the
    file's Chinese name without its ending."""
    from alerts.documents import DocumentError, to_pdf

    ending, media = ".docx", DOCX
    if request.query_params.get("format") == "pdf":
        try:
            document = to_pdf(document)
        except DocumentError as exc:
            raise HTTPException(503, str(exc)) from None
        ending, media = ".pdf", "application/pdf"
    return Response(
        document,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=\"document{ending}\"; filename*=UTF-8''{quote(name + ending)}"
        },
    )


class Forbidden(Exception):
    """A request the account may not make; answered 403 with the message."""

    def __init__(self, message: str) -> None:
        self.message = message


class NotLoggedIn(Exception):
    """No valid session: answered with a redirect to the login page."""


def beijing(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if moment else "-"


def beijing_text(stamp: str | None) -> str:
    """`beijing` of a stored ISO time (a post's document keeps its times as text)."""
    try:
        return beijing(datetime.fromisoformat(stamp)) if stamp else "-"
    except ValueError:
        return stamp or "-"


class Web:
    """The console's shared parts, made once by create_app."""

    def __init__(self, outbox_path: Path, office: OfficeConfig, now: Callable[[], datetime], signer: Signer):
        self.outbox_path = outbox_path
        self.office = office
        self.now = now
        self.signer = signer
        # Autoescape on every template: crawled titles and summaries are text, never markup.
        self.templates = Jinja2Templates(
            env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
        )
        self.templates.env.filters["beijing"] = beijing
        self.templates.env.filters["beijing_text"] = beijing_text
        city = office.territory.city
        self.office_name = f"{city}政务舆情监测" if city else "政务舆情监测"

    @contextmanager
    def opened(self) -> Iterator[Workflow]:
        """The alerts database for one request, so the console sees what `serve` wrote a moment before."""
        outbox = Outbox(self.outbox_path)
        workflow = Workflow(outbox, self.office, self.now)
        try:
            yield workflow
        finally:
            workflow.close()
            outbox.close()

    # -- who is asking ----------------------------------------------------------------------------------

    def session_account(self, request: Request) -> Account | None:
        session = self.signer.load(request.cookies.get(COOKIE))
        if session is None:
            return None
        with self.opened() as workflow:
            account = workflow.accounts.get(session.name)
            found = credentials(workflow.accounts, session.name)
            ended = workflow.accounts.records.session_ended(session.sid)
        # Logged out, a disabled account, or a password changed since: the session is over.
        if (
            ended
            or account is None
            or not account.enabled
            or found is None
            or (found.changed_at or "") != session.stamp
        ):
            return None
        if request.headers.get(BACKGROUND) != "1":
            request.state.session = session.renewed(time.time())  # the response carries it on
        request.state.account = account
        return account

    def end_session(self, request: Request, account: Account) -> None:
        """Logout: the session's cookie is refused from now on, also a copy kept elsewhere."""
        session = self.signer.load(request.cookies.get(COOKIE))
        if session is None:
            return
        now = datetime.now(UTC)
        expires = datetime.fromtimestamp(session.issued + ABSOLUTE, UTC)
        with self.opened() as workflow, workflow.accounts.records.db.transaction():
            at, until = (moment.isoformat(timespec="seconds") for moment in (now, expires))
            workflow.accounts.records.end_session(session.sid, account.name, at, until)
            workflow.accounts.record(account, "logout", account.name, origin=ORIGIN)
        request.state.session = None

    def signed_in(self, request: Request) -> Account:
        """The dependency of every page behind the login."""
        account = self.session_account(request)
        if account is None:
            raise NotLoggedIn
        return account

    def csrf_seed(self, request: Request) -> str | None:
        session = getattr(request.state, "session", None) or self.signer.load(request.cookies.get(COOKIE))
        if session is not None:
            return session.sid
        return getattr(request.state, "pre", None) or request.cookies.get(PRE_COOKIE)

    # -- what a page shows ------------------------------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        account = getattr(request.state, "account", None)
        seed = self.csrf_seed(request)
        context.update(
            office_name=self.office_name,
            account=account,
            csrf_token=self.signer.csrf(seed) if seed else "",
            htmx_missing=bool(assets.missing()),
            how_to_fetch=assets.HOW_TO_FETCH,
            now=self.now(),
            level_class=LEVEL_CLASS,
            action_labels=HISTORY_LABELS,
        )
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    @staticmethod
    def scoped(account: Account, alert: Alert, case: Case | None) -> bool:
        """Whether the account may see the alert: a unit only what was routed to it."""
        if account.role is not Role.UNIT:
            return True
        if alert.kind != "post":
            return False
        units = {*alert.first, *alert.claim, *alert.coordinate}
        if case is not None:
            units.update(case.expected)
            units.update(u for u in (case.owner, case.assigned) if u)
        return account.unit in units
