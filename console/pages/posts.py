"""帖子: one stored post in full, with the link to the original, and its analysis with every reason
(sentiment, rules, severity, territory, lines of work, event); analysts correct the sentiment, level, county
or line of work, and each correction is kept as a label beside the model's judgement. `/labels`: how often
the model agrees with the analysts' labels so far."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Refused, Role
from alerts.labels import FIELDS, NO_DEPARTMENT, NOT_LOCAL, SENTIMENTS, Labels
from alerts.rulebook import EDITORS, VERDICTS, Rulebook
from classifiers.types import Level
from config.env import get_env
from console.web import ORIGIN, Forbidden, Web
from pipeline import evidence as copies
from pipeline.errors import StoreError
from pipeline.items import source_text
from pipeline.store import open_store

READERS = (Role.DUTY, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)


def model_values(doc: dict[str, Any]) -> dict[str, str]:
    """What the model judged of each correctable field, as a label would say it."""
    analysis = doc.get("analysis") or {}
    counties = (analysis.get("territory") or {}).get("counties") or []
    departments = analysis.get("departments") or []
    return {
        "sentiment": analysis.get("polarity") or "",
        "level": (analysis.get("severity") or {}).get("level") or "",
        "county": counties[0] if counties else NOT_LOCAL,
        "department": departments[0] if departments else NO_DEPARTMENT,
    }


def register(app: FastAPI, web: Web) -> None:
    counties = [c.name for c in web.office.territory.counties] if web.office.territory else []
    departments = [d.topic for d in web.office.units.departments] if web.office.units else []
    choices = {
        "sentiment": list(SENTIMENTS),
        "level": [level.value for level in Level],
        "county": [*counties, NOT_LOCAL],
        "department": [*departments, NO_DEPARTMENT],
    }

    def reader(account: Account) -> None:
        if account.role not in READERS:
            raise Forbidden("帖子详情仅供值班、分析、督办和管理员账号查看")

    def stored(post_id: str) -> dict[str, Any]:
        try:
            store = open_store(get_env(), read_only=True)
        except StoreError as exc:
            raise HTTPException(503, f"无法打开帖子存储：{exc}") from None
        try:
            doc = store.get(post_id)
        finally:
            store.close()
        if doc is None:
            raise HTTPException(404)
        return doc

    def show(
        request: Request, account: Account, post_id: str, status: int = 200, error: str = ""
    ) -> Response:
        doc = stored(post_id)
        analysis = doc.get("analysis") or {}
        with web.opened() as workflow:
            labelled = Labels(workflow).of_post(post_id)
            marks = Rulebook(workflow, get_env()).marks_of([post_id])
        kept = copies.read(get_env(), post_id)
        return web.page(
            request,
            "post.html",
            status=status,
            doc=doc,
            a=analysis,
            source=source_text(doc.get("source"), doc.get("media")),
            model=model_values(doc),
            labelled=labelled,
            fields=FIELDS,
            choices=choices,
            sentiments=SENTIMENTS,
            marks={rule: verdict for (_, rule), verdict in marks.items()},
            verdicts=VERDICTS,
            can_edit=account.role in EDITORS,
            error=error,
            done=request.query_params.get("done") == "1",
            evidence=kept,
            evidence_intact=copies.verify(kept) if kept else None,
            evidence_attempts=copies.attempts(get_env(), post_id) if kept is None else [],
            evidence_query=urlencode({"post": post_id}),
        )

    @app.get("/posts/{post_id:path}", response_class=HTMLResponse)
    def post(request: Request, post_id: str, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        reader(account)
        return show(request, account, post_id)

    @app.get("/evidence/{name}")
    def evidence_file(
        request: Request, name: str, account: Annotated[Account, Depends(web.signed_in)]
    ) -> Response:
        """A kept copy's file. The page's HTML is given as a download, never shown here: it is the original
        site's markup, not ours."""
        reader(account)
        kept = copies.read(get_env(), request.query_params.get("post", ""))
        if kept is None or name not in ("page.html", "screenshot.png"):
            raise HTTPException(404)
        if name == "screenshot.png":
            return FileResponse(kept.folder / name, media_type="image/png")
        return FileResponse(
            kept.folder / name,
            media_type="application/octet-stream",
            filename=f"{kept.folder.name}-page.html",
        )

    @app.post("/labels/{post_id:path}", response_class=HTMLResponse)
    def correct(
        request: Request,
        post_id: str,
        account: Annotated[Account, Depends(web.signed_in)],
        field: Annotated[str, Form()],
        value: Annotated[str, Form()],
    ) -> Response:
        reader(account)
        doc = stored(post_id)
        text = "\n".join(part for part in (doc.get("title"), doc.get("text")) if part)
        with web.opened() as workflow:
            try:
                Labels(workflow).correct(
                    account.name,
                    post_id,
                    field,
                    value,
                    model_value=model_values(doc).get(field, ""),
                    text=text,
                    allowed=choices.get(field, []),
                    origin=ORIGIN,
                )
            except Refused as exc:
                return show(request, account, post_id, 400, str(exc))
        return RedirectResponse(f"/posts/{post_id}?done=1", status_code=303)

    @app.get("/labels", response_class=HTMLResponse)
    def agreement(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        reader(account)
        with web.opened() as workflow:
            book = Labels(workflow)
            figures, recent = book.agreement(), book.latest()[-50:][::-1]
        return web.page(
            request, "labels.html", figures=figures, recent=recent, fields=FIELDS, sentiments=SENTIMENTS
        )
