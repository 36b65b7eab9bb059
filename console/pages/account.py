"""Each person's own account: who they are in the console, and changing their password (the current one
first; afterwards every session of the account ends, this one too, and they sign in again)."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerts.accounts import Account, AccountError
from console.passwords import MIN_LENGTH, change_own_password
from console.web import ORIGIN, Web


def register(app: FastAPI, web: Web) -> None:
    def show(request: Request, status: int = 200, error: str = "") -> Response:
        return web.page(request, "account.html", status=status, error=error, min_length=MIN_LENGTH)

    @app.get("/account", response_class=HTMLResponse)
    def account_page(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        return show(request)

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
