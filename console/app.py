"""The console's FastAPI application: the answers every page shares (security headers, errors, the
CSRF check), login and logout, and the page groups of console/pages/ on one `Web`."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() on local functions at definition.

import logging
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.models import OfficeConfig
from console.pages import (
    account,
    audit,
    board,
    cases,
    dashboard,
    desk,
    events,
    live,
    posts,
    rules,
    search,
    signoff,
)
from console.passwords import log_in
from console.sessions import COOKIE, PRE_COOKIE, Signer, load_key
from console.web import HERE, ORIGIN, Forbidden, NotLoggedIn, Web

logger = logging.getLogger(__name__)

# What a person reads for the errors the framework raises (its own wording is English).
HTTP_ERRORS = {
    400: ("请求有误", "提交的内容不完整或格式不对，请返回重填。"),
    404: ("页面不存在", "没有这个页面，或您无权查看。"),
    405: ("操作方式不对", "这个地址不接受这种请求；请从页面上的按钮或链接进入。"),
    413: ("提交的内容过大", "请缩短后再提交。"),
}


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
        if request.url.path == "/logout" and web.session_account(request) is None:
            return  # a session already over (idle, say) has nothing to protect: logging out just says so
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
        login = f"/login?next={quote(target)}"
        if request.headers.get("HX-Request"):
            # A part of a page asked for: the whole page goes to the login form, not into the part.
            return Response(status_code=401, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, "error.html", 403, title="请求被拒绝", message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title, message = HTTP_ERRORS.get(
            exc.status_code, ("出错了", f"请求未能完成（HTTP {exc.status_code}）。")
        )
        return page(request, "error.html", exc.status_code, title=title, message=message)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, _exc: RequestValidationError) -> Response:
        return page(
            request, "error.html", 400, title="请求有误", message="提交的内容不完整或格式不对，请返回重填。"
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        logger.error("控制台处理 %s %s 时出错", request.method, request.url.path, exc_info=exc)
        return page(
            request,
            "error.html",
            500,
            title="系统出错",
            message="处理请求时出错，已记入日志；请稍后重试或联系管理员。",
        )

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
        notice = "密码已修改，请用新密码重新登录" if request.query_params.get("changed") == "1" else ""
        response = page(request, "login.html", next=safe_next(next), error="", username="", notice=notice)
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
            web.end_session(request, account)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    desk.register(app, web)
    cases.register(app, web)
    live.register(app, web)
    board.register(app, web)
    audit.register(app, web)
    search.register(app, web)
    rules.register(app, web)
    posts.register(app, web)
    events.register(app, web)
    dashboard.register(app, web)
    account.register(app, web)
    signoff.register(app, web)
    return app
