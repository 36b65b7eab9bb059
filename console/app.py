"""The console's FastAPI application: the answers every page shares (security headers, errors, the
CSRF check), login and logout, and the page groups of console/pages/ on one `Web`."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() on local functions at definition.

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.models import OfficeConfig
from console.pages import desk
from console.passwords import log_in
from console.sessions import COOKIE, PRE_COOKIE, Signer, load_key
from console.web import HERE, ORIGIN, Forbidden, NotLoggedIn, Web


def create_app(outbox_path: Path, office: OfficeConfig, now: Any, *, secure_cookies: bool = False) -> FastAPI:
    """The console on the alerts database at `outbox_path` (or YUQING_DB_URL's). `now` is the office's
    clock (the demo's when serving it); sessions and lockouts keep wall-clock time."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web = Web(outbox_path, office, now, Signer(load_key(outbox_path.parent)))
    signer = web.signer
    page = web.page
    session_account = web.session_account
    opened = web.opened

    async def check_csrf(request: Request) -> None:
        """Every POST carries the token of its session, in the form or htmx's header."""
        if request.method != "POST":
            return
        form = await request.form()
        token = request.headers.get("x-csrf-token") or form.get("csrf_token")
        if not signer.csrf_ok(web.csrf_seed(request), token if isinstance(token, str) else None):
            raise Forbidden("表单已失效或来源不明（缺少有效的防伪令牌）：请返回上一页，刷新后重新提交")

    app.router.dependencies.append(Depends(check_csrf))

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

    desk.register(app, web)
    return app
