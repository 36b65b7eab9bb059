"""The duty desk's live feed: server-sent events that say "new alerts", never the alerts themselves. The
page then fetches its table again with its own filters and permissions, so a missed event costs nothing.

Each stream looks every POLL seconds for alerts stored after the last it told (by their insertion number;
Last-Event-ID carries it across a reconnect), checks every RECHECK seconds that its session still stands
(a logout, an expired session or a disabled account ends it), and never renews the session: a desk left
open does not keep anyone signed in. At most MAX_STREAMS are open at once."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from alerts.accounts import Account
from console.web import Web

POLL = 2.0  # seconds between looks at the alerts database
RECHECK = 30.0  # seconds between checks that the session still stands
HEARTBEAT = 15.0  # a comment line this often keeps proxies from closing a quiet stream
MAX_STREAMS = 64


def _event(name: str, data: dict[str, object], ident: str | None = None) -> str:
    head = f"id: {ident}\n" if ident else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def register(app: FastAPI, web: Web) -> None:
    open_streams = 0

    def news(account: Account, cursor: int | None) -> tuple[list[dict[str, object]], int]:
        """The alerts stored after `cursor` that the account may see, loudest first, each marked loud
        from the level the person chose on their account page, and the new cursor."""
        loud = account.loud_from
        with web.opened() as workflow:
            fresh, cursor = workflow.outbox.alerts_after(cursor)
            told = []
            for alert in fresh:
                owner = workflow.records.case_of_alert(alert.key)
                case = workflow.get(owner) if owner else None
                if web.scoped(account, alert, case):
                    told.append(alert)
        return [
            {
                "level": a.level.value,
                "title": a.title if a.kind == "post" else a.subject(),
                "loud": loud is not None and a.kind == "post" and a.level.rank >= loud.rank,
            }
            for a in sorted(told, key=lambda a: -a.level.rank)
        ], cursor

    def still_signed_in(request: Request) -> bool:
        return web.session_account(request) is not None

    @app.get("/desk/stream")
    async def stream(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        nonlocal open_streams
        if open_streams >= MAX_STREAMS:
            return Response(
                "实时推送连接过多，请稍后刷新页面", status_code=503, media_type="text/plain; charset=utf-8"
            )
        told_last = request.headers.get("last-event-id", "")
        cursor = int(told_last) if told_last.isdigit() else None  # a reconnect goes on from what it was told
        request.state.session = None  # the stream's own response does not renew the session either

        async def events() -> AsyncIterator[str]:
            nonlocal open_streams, cursor
            open_streams += 1
            checked = beat = time.monotonic()
            try:
                if cursor is None:
                    _none, cursor = await run_in_threadpool(news, account, None)
                yield "retry: 5000\n\n" + _event("ready", {}, str(cursor))
                while not await request.is_disconnected():
                    now = time.monotonic()
                    if now - checked >= RECHECK:
                        checked = now
                        if not await run_in_threadpool(still_signed_in, request):
                            yield _event("end", {"reason": "会话已结束，请重新登录"})
                            return
                    told, cursor = await run_in_threadpool(news, account, cursor)
                    if told:
                        beat = now
                        yield _event("alerts", {"alerts": told}, str(cursor))
                    elif now - beat >= HEARTBEAT:
                        beat = now
                        yield ": 心跳\n\n"
                    await asyncio.sleep(POLL)
            finally:
                open_streams -= 1

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
