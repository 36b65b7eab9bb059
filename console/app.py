"""The console's FastAPI application: login and logout, the duty desk and an alert's page, behind
sessions, CSRF checks and per-role scope. Each request opens the alerts database for itself, so the
console sees what `serve` and the shell commands wrote a moment before."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() on local functions at definition.

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from alerts.cases import Case
from alerts.models import Alert
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from config.models import OfficeConfig
from console import assets
from console.passwords import credentials, log_in
from console.sessions import COOKIE, PRE_COOKIE, Signer, load_key

HERE = Path(__file__).resolve().parent
ORIGIN = "web"
RECENT = timedelta(days=30)  # how far back the duty desk lists alerts
LIMIT = 300

LEVEL_CLASS = {
    Level.MAJOR_EMERGENCY: "major",
    Level.SENSITIVE: "sensitive",
    Level.HOT_TOPIC: "hot",
    Level.GENERAL: "general",
}
LOUDEST_FIRST = sorted(Level, key=lambda level: -level.rank)


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class NotLoggedIn(Exception):
    pass


def beijing(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if moment else "-"


def create_app(outbox_path: Path, office: OfficeConfig, now: Any, *, secure_cookies: bool = False) -> FastAPI:
    """The console on the alerts database at `outbox_path` (or YUQING_DB_URL's). `now` is the office's
    clock (the demo's when serving it); sessions and lockouts keep wall-clock time."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # Autoescape on every template: crawled titles and summaries are text, never markup.
    templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
    templates.env.filters["beijing"] = beijing
    signer = Signer(load_key(outbox_path.parent))
    office_name = f"{office.territory.city}政务舆情监测" if office.territory.city else "政务舆情监测"

    @contextmanager
    def opened() -> Iterator[Workflow]:
        outbox = Outbox(outbox_path)
        workflow = Workflow(outbox, office, now)
        try:
            yield workflow
        finally:
            workflow.close()
            outbox.close()

    # -- who is asking ----------------------------------------------------------------------------------

    def session_account(request: Request) -> Account | None:
        session = signer.load(request.cookies.get(COOKIE))
        if session is None:
            return None
        with opened() as workflow:
            account = workflow.accounts.get(session.name)
            found = credentials(workflow.accounts, session.name)
        # A disabled account, or a password changed since, ends the session.
        if (
            account is None
            or not account.enabled
            or found is None
            or (found.changed_at or "") != session.stamp
        ):
            return None
        request.state.session = session.renewed(time.time())
        request.state.account = account
        return account

    def signed_in(request: Request) -> Account:
        account = session_account(request)
        if account is None:
            raise NotLoggedIn
        return account

    def csrf_seed(request: Request) -> str | None:
        session = getattr(request.state, "session", None) or signer.load(request.cookies.get(COOKIE))
        if session is not None:
            return session.sid
        return getattr(request.state, "pre", None) or request.cookies.get(PRE_COOKIE)

    async def check_csrf(request: Request) -> None:
        """Every POST carries the token of its session, in the form or htmx's header."""
        if request.method != "POST":
            return
        form = await request.form()
        token = request.headers.get("x-csrf-token") or form.get("csrf_token")
        if not signer.csrf_ok(csrf_seed(request), token if isinstance(token, str) else None):
            raise Forbidden("表单已失效或来源不明（缺少有效的防伪令牌）：请返回上一页，刷新后重新提交")

    app.router.dependencies.append(Depends(check_csrf))

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        account = getattr(request.state, "account", None)
        seed = csrf_seed(request)
        context.update(
            office_name=office_name,
            account=account,
            csrf_token=signer.csrf(seed) if seed else "",
            htmx_missing=not assets.HTMX.path.is_file(),
            how_to_fetch=assets.HOW_TO_FETCH,
            now=now(),
        )
        return templates.TemplateResponse(request, name, context, status_code=status)

    # -- the answers every page shares ---------------------------------------------------------------

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        session = getattr(request.state, "session", None)
        if session is not None and COOKIE not in response.headers.get("set-cookie", ""):
            set_session(response, signer.dump(session))
        return response

    def set_session(response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE, value, httponly=True, samesite="lax", secure=secure_cookies, path="/", max_age=12 * 3600
        )

    @app.exception_handler(NotLoggedIn)
    async def to_login(request: Request, _exc: NotLoggedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, "error.html", 403, title="请求被拒绝", message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(
                request, "error.html", 404, title="页面不存在", message="没有这个页面，或您无权查看。"
            )
        return page(request, "error.html", exc.status_code, title="出错了", message=str(exc.detail))

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # -- login and logout -------------------------------------------------------------------------------

    def safe_next(target: str | None) -> str:
        # Only a path on this site, so the login form cannot send anyone elsewhere.
        return target if target and target.startswith("/") and not target.startswith("//") else "/desk"

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        if session_account(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
        request.state.pre = pre
        response = page(request, "login.html", next=safe_next(next), error="", username="")
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", secure=secure_cookies, path="/")
        return response

    @app.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/desk",
    ) -> Response:
        with opened() as workflow:
            outcome = log_in(workflow.accounts, username.strip(), password, origin=ORIGIN)
        if outcome.account is None:
            return page(
                request, "login.html", 401, next=safe_next(next), error=outcome.reason, username=username
            )
        response = RedirectResponse(safe_next(next), status_code=303)
        set_session(response, signer.dump(signer.new(outcome.account.name, outcome.stamp)))
        response.delete_cookie(PRE_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        account = session_account(request)
        if account is not None:
            with opened() as workflow:
                workflow.accounts.record(account, "logout", account.name, origin=ORIGIN)
        request.state.session = None
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- the duty desk ------------------------------------------------------------------------------------

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

    def rows(workflow: Workflow, account: Account) -> list[tuple[Alert, Case | None]]:
        found = []
        for alert in workflow.outbox.alerts(since=workflow.now() - RECENT):
            owner = workflow.records.case_of_alert(alert.key)
            case = workflow.get(owner) if owner else None
            if scoped(account, alert, case):
                found.append((alert, case))
        found.sort(key=lambda pair: (-pair[0].level.rank, -pair[0].created_at.timestamp()))
        return found

    @app.get("/")
    def home(account: Annotated[Account, Depends(signed_in)]) -> Response:
        return RedirectResponse("/desk", status_code=303)

    @app.get("/desk", response_class=HTMLResponse)
    def desk(
        request: Request,
        account: Annotated[Account, Depends(signed_in)],
    ) -> Response:
        chosen = [lv for lv in LOUDEST_FIRST if lv.value in request.query_params.getlist("level")]
        with opened() as workflow:
            every = rows(workflow, account)
        counts = {lv: sum(1 for a, _ in every if a.level is lv) for lv in LOUDEST_FIRST}
        shown = [(a, c) for a, c in every if not chosen or a.level in chosen][:LIMIT]
        return page(
            request,
            "desk.html",
            alerts=shown,
            total=len(every),
            counts=counts,
            levels=LOUDEST_FIRST,
            chosen=chosen,
            level_class=LEVEL_CLASS,
        )

    @app.get("/alerts/{key}", response_class=HTMLResponse)
    def alert_page(request: Request, key: str, account: Annotated[Account, Depends(signed_in)]) -> Response:
        with opened() as workflow:
            alert = workflow.outbox.alert(key)
            owner = workflow.records.case_of_alert(key) if alert else None
            case = workflow.get(owner) if owner else None
        if alert is None or not scoped(account, alert, case):
            # The same answer for a key that does not exist and one the unit may not see.
            raise StarletteHTTPException(404)
        return page(request, "alert.html", alert=alert, case=case, level_class=LEVEL_CLASS)

    return app
