"""Each person's own account: who they are in the console, which alerts the duty desk beeps and notifies
them for, and changing their password (the current one first; afterwards every session of the account
ends, this one too, and they sign in again)."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerts.accounts import NOTIFY_OFF, Account, AccountError
from classifiers.types import Level
from console.passwords import MIN_LENGTH, change_own_password
from console.web import ORIGIN, Web

# The choices of the duty desk's sound and desktop notification, as the account page offers them.
NOTIFY_CHOICES = {
    Level.MAJOR_EMERGENCY.value: "仅重大突发事态",
    Level.SENSITIVE.value: "复杂敏感事件及以上（默认）",
    Level.HOT_TOPIC.value: "社会热点问题及以上",
    Level.GENERAL.value: "所有预警",
    NOTIFY_OFF: "不提醒",
}


def register(app: FastAPI, web: Web) -> None:
    def show(request: Request, status: int = 200, error: str = "", done: str = "") -> Response:
        return web.page(
            request,
            "account.html",
            status=status,
            error=error,
            done=done,
            min_length=MIN_LENGTH,
            choices=NOTIFY_CHOICES,
        )

    @app.get("/account", response_class=HTMLResponse)
    def account_page(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        return show(request, done="提醒设置已保存" if request.query_params.get("saved") == "1" else "")

    @app.post("/account/notify", response_class=HTMLResponse)
    def notify(
        request: Request, account: Annotated[Account, Depends(web.signed_in)], level: Annotated[str, Form()]
    ) -> Response:
        try:
            with web.opened() as workflow:
                workflow.accounts.set_notify_from(account, level)
        except AccountError as exc:
            return show(request, 400, str(exc))
        return RedirectResponse("/account?saved=1", status_code=303)

    @app.post("/account/password", response_class=HTMLResponse)
    def change_password(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        current: Annotated[str, Form()] = "",
        new: Annotated[str, Form()] = "",
        again: Annotated[str, Form()] = "",
    ) -> Response:
        if new != again:
            return show(request, 400, "两次输入的新密码不一致")
        try:
            with web.opened() as workflow:
                change_own_password(workflow.accounts, account, current, new, origin=ORIGIN)
        except AccountError as exc:
            return show(request, 400, str(exc))
        request.state.session = None  # the password stamp changed: this session is over as well
        return RedirectResponse("/login?changed=1", status_code=303)
