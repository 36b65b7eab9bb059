"""规则: the keyword rules in force, each with its category, weight and minimum level, how often it matched
in the last 24 hours and 7 days and when last (filtered by category, or to rules that never matched); the
editor, which checks the expression as it is typed (the error at its character) and previews the edit over
the last 7 days of stored posts before it is saved; and the versions, each with who, when, why and what
changed, any of which can be restored. Analysts and administrators edit; duty staff and supervisors read."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

import re
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from alerts.accounts import Account, Refused, Role
from alerts.rulebook import EDITORS, VERDICTS, Rulebook, diff, with_rule
from classifiers.rules import RuleError, RuleSpec, compile_rules
from classifiers.types import Level
from config.env import get_env
from config.errors import ConfigError
from config.loader import load_config, rules_in_force
from config.models import RuleConfig
from console.pages.search import excerpt
from console.web import ORIGIN, Forbidden, Web
from pipeline.context import Context
from pipeline.errors import StoreError
from pipeline.rule_preview import DAYS, preview
from pipeline.store import open_store
from pipeline.store.base import RuleHits

READERS = (Role.ANALYST, Role.ADMIN, Role.DUTY, Role.SUPERVISOR)


class RuleForm(BaseModel):
    """The editor's fields, as posted (checked when the rule is built from them)."""

    id: str = ""
    original: str = ""  # the id of the rule being edited; empty for a new one
    name: str = ""
    category: str = ""
    weight: str = "5"
    min_level: str = ""
    expr: str = ""
    reason: str = ""

    def values(self) -> dict[str, str]:
        return self.model_dump(exclude={"original", "reason"})


# What the rules page and the preview read: the rules in force, the words, and how levels are judged.
NEEDED = frozenset({"rules", "territory", "units", "severity", "alerts"})


@dataclass(frozen=True, slots=True)
class Listed:
    rule: RuleConfig
    day: RuleHits | None
    week: RuleHits | None


def _office_context() -> Context:
    env = get_env()
    return Context(office=load_config(only=NEEDED, rules=rules_in_force(env)), env=env)


def check_expression(rule_id: str, expr: str) -> tuple[str, int | None]:
    """("", None) when the expression compiles, else the error in words and the character it is at."""
    if not expr.strip():
        return "表达式是空的", None
    try:
        compile_rules([RuleSpec(id=rule_id or "新规则", expr=expr)])
    except RuleError as exc:
        return exc.message, exc.position
    return "", None


def register(app: FastAPI, web: Web) -> None:
    def reader(account: Account) -> None:
        if account.role not in READERS:
            raise Forbidden("关键词规则仅供分析员、值班员、督办和管理员账号查看")

    def editor(account: Account) -> None:
        if account.role not in EDITORS:
            raise Forbidden("关键词规则由分析员或管理员账号修改；本账号只能查看")

    @app.get("/rules", response_class=HTMLResponse)
    def rules(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        reader(account)
        now = web.now()
        query = request.query_params
        category, silent = query.get("category", ""), query.get("silent") == "1"
        problems = []
        try:
            context = _office_context()
        except ConfigError as exc:
            return web.page(request, "error.html", status=500, title="规则无法读取", message=str(exc))
        day: dict[str, RuleHits] = {}
        week: dict[str, RuleHits] = {}
        try:
            store = open_store(get_env(), read_only=True)
            try:
                day, week = (
                    store.rule_hits(now - timedelta(hours=24)),
                    store.rule_hits(now - timedelta(days=7)),
                )
            finally:
                store.close()
        except StoreError as exc:
            problems.append(f"无法读取命中情况：{exc}")
        listed = [Listed(r, day.get(r.id), week.get(r.id)) for r in context.office.rules.rules]
        categories = list(dict.fromkeys(item.rule.category for item in listed))
        shown = [
            item
            for item in listed
            if (not category or item.rule.category == category) and (not silent or item.week is None)
        ]
        with web.opened() as workflow:
            book = Rulebook(workflow, get_env())
            current, precision = book.current(), book.precision()
        saved = query.get("saved", "")
        return web.page(
            request,
            "rules.html",
            rows=shown,
            precision=precision,
            total=len(listed),
            categories=categories,
            category=category,
            silent=silent,
            current=current,
            problems=problems,
            can_edit=account.role in EDITORS,
            saved=int(saved) if saved.isdigit() else None,
        )

    def editor_page(
        request: Request,
        rule: RuleConfig | None,
        *,
        status: int = 200,
        error: str = "",
        values: dict[str, str] | None = None,
    ) -> Response:
        context = _office_context()
        categories = list(dict.fromkeys(r.category for r in context.office.rules.rules))
        fields = values or (
            {
                "id": rule.id,
                "name": rule.name,
                "category": rule.category,
                "weight": f"{rule.weight:g}",
                "min_level": rule.min_level.value if rule.min_level else "",
                "expr": rule.expr,
            }
            if rule
            else {"id": "", "name": "", "category": "", "weight": "5", "min_level": "", "expr": ""}
        )
        message, position = check_expression(fields["id"], fields["expr"]) if fields["expr"] else ("", None)
        return web.page(
            request,
            "rule_edit.html",
            status=status,
            rule=rule,
            fields=fields,
            categories=categories,
            levels=[level.value for level in Level],
            error=error,
            check=_check_view(fields["expr"], message, position),
            days=DAYS,
        )

    def find(rule_id: str) -> RuleConfig:
        for rule in _office_context().office.rules.rules:
            if rule.id == rule_id:
                return rule
        raise HTTPException(404)

    @app.get("/rules/new", response_class=HTMLResponse)
    def new_rule(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        editor(account)
        return editor_page(request, None)

    @app.get("/rules/versions", response_class=HTMLResponse)
    def versions(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        reader(account)
        with web.opened() as workflow:
            book = Rulebook(workflow, get_env())
            found = book.versions()
            changes = {v.number: diff(book.before(v), v.rules()) for v in found}
        return web.page(
            request,
            "rule_versions.html",
            versions=found,
            changes=changes,
            can_edit=account.role in EDITORS,
            error=request.query_params.get("error", ""),
        )

    @app.post("/rules/versions/{number}/restore", response_class=HTMLResponse)
    def restore(
        request: Request,
        number: int,
        account: Annotated[Account, Depends(web.signed_in)],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        editor(account)
        with web.opened() as workflow:
            try:
                saved = Rulebook(workflow, get_env()).restore(account.name, number, reason, origin=ORIGIN)
            except Refused as exc:
                return RedirectResponse(f"/rules/versions?error={_quoted(str(exc))}", status_code=303)
        return RedirectResponse(f"/rules?saved={saved.number}", status_code=303)

    @app.get("/rules/{rule_id}", response_class=HTMLResponse)
    def edit_rule(
        request: Request, rule_id: str, account: Annotated[Account, Depends(web.signed_in)]
    ) -> Response:
        reader(account)
        rule = find(rule_id)
        if account.role not in EDITORS:
            raise Forbidden("关键词规则由分析员或管理员账号修改；本账号只能在规则列表查看")
        return editor_page(request, rule)

    @app.post("/rules/mark", response_class=HTMLResponse)
    def mark(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        post_id: Annotated[str, Form()],
        rule_id: Annotated[str, Form()],
        verdict: Annotated[str, Form()],
        rule_name: Annotated[str, Form()] = "",
    ) -> Response:
        editor(account)
        with web.opened() as workflow:
            try:
                Rulebook(workflow, get_env()).mark(account.name, post_id, rule_id, verdict, origin=ORIGIN)
            except Refused as exc:
                return HTMLResponse(
                    f'<span class="rule-mark error">{escape(str(exc))}</span>', status_code=400
                )
        return web.page(
            request,
            "rule_mark.html",
            r={"id": post_id},
            rule_id=rule_id,
            rule_name=rule_name or rule_id,
            verdict=verdict,
            verdicts=VERDICTS,
            can_mark=True,
        )

    @app.post("/rules/check", response_class=HTMLResponse)
    def check(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        expr: Annotated[str, Form()] = "",
        id: Annotated[str, Form()] = "",
    ) -> Response:
        editor(account)
        message, position = check_expression(id, expr)
        return web.page(request, "rule_check.html", check=_check_view(expr, message, position))

    @app.post("/rules/preview", response_class=HTMLResponse)
    def preview_rule(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        form: Annotated[RuleForm, Form()],
    ) -> Response:
        editor(account)
        message, _ = check_expression(form.id, form.expr)
        if message:
            return web.page(request, "rule_preview.html", error=f"表达式有误，无法预览：{message}")
        context = _office_context()
        saved = next((r for r in context.office.rules.rules if r.id == (form.original or form.id)), None)
        edited = RuleSpec(
            id=saved.id if saved else (form.id or "新规则"),
            expr=form.expr,
            name=form.name,
            category=form.category,
            weight=_weight(form.weight),
            min_level=Level(form.min_level) if form.min_level in Level._value2member_map_ else None,
        )
        old = (
            RuleSpec(saved.id, saved.expr, saved.name, saved.category, saved.weight, saved.min_level)
            if saved
            else None
        )
        try:
            store = open_store(get_env(), read_only=True)
        except StoreError as exc:
            return web.page(request, "rule_preview.html", error=f"无法打开帖子存储：{exc}")
        try:
            result = preview(store, context, edited, old, now=web.now())
        except StoreError as exc:
            return web.page(request, "rule_preview.html", error=f"预览失败：{exc}")
        finally:
            store.close()
        return web.page(
            request,
            "rule_preview.html",
            result=result,
            days=DAYS,
            new_rule=saved is None,
            marked=lambda sample: (
                excerpt(sample.title, sample.terms, width=80) if sample.title else [],
                excerpt(sample.text, sample.terms),
            ),
        )

    @app.post("/rules/new", response_class=HTMLResponse)
    def save_new(
        request: Request,
        account: Annotated[Account, Depends(web.signed_in)],
        form: Annotated[RuleForm, Form()],
    ) -> Response:
        editor(account)
        return save(request, account, None, form.values(), form.reason)

    @app.post("/rules/{rule_id}", response_class=HTMLResponse)
    def save_rule(
        request: Request,
        rule_id: str,
        account: Annotated[Account, Depends(web.signed_in)],
        form: Annotated[RuleForm, Form()],
    ) -> Response:
        editor(account)
        rule = find(rule_id)
        return save(request, account, rule, form.values() | {"id": rule.id}, form.reason)

    def save(
        request: Request, account: Account, rule: RuleConfig | None, values: dict[str, str], reason: str
    ) -> Response:
        problems = field_problems(values)
        if problems:
            return editor_page(request, rule, status=400, error="；".join(problems), values=values)
        edited = RuleConfig(
            id=values["id"].strip(),
            name=values["name"].strip(),
            category=values["category"].strip(),
            expr=values["expr"],
            weight=float(values["weight"]),
            min_level=Level(values["min_level"]) if values["min_level"] else None,
        )
        with web.opened() as workflow:
            book = Rulebook(workflow, get_env())
            try:
                text = with_rule(book.text_in_force(), edited, replacing=rule.id if rule else None)
                saved = book.save(account.name, text, reason, origin=ORIGIN)
            except (ConfigError, Refused) as exc:
                return editor_page(request, rule, status=400, error=str(exc), values=values)
        return RedirectResponse(f"/rules?saved={saved.number}", status_code=303)


_RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def field_problems(values: dict[str, str]) -> list[str]:
    """What is wrong with the editor's fields, in words (nothing when the rule can be built from them)."""
    problems = []
    if not _RULE_ID.fullmatch(values["id"].strip()):
        problems.append("编号只能用英文小写字母、数字和连字符，如 wage-arrears-sit-in")
    for field, label in (("name", "名称"), ("category", "类别"), ("expr", "表达式")):
        if not values[field].strip():
            problems.append(f"请填写{label}")
    try:
        weight = float(values["weight"])
    except ValueError:
        weight = -1.0
    if not 0 <= weight <= 10:
        problems.append(f"权重应为 0～10 的数字，而不是「{values['weight']}」")
    if values["min_level"] and values["min_level"] not in Level._value2member_map_:
        problems.append(f"没有「{values['min_level']}」这个级别")
    return problems


def _weight(text: str) -> float:
    """The weight as the preview uses it: a typo in it is said on saving, so the preview takes 1 meanwhile."""
    try:
        value = float(text)
    except ValueError:
        return 1.0
    return value if 0 <= value <= 10 else 1.0


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


@dataclass(frozen=True, slots=True)
class CheckView:
    ok: bool
    message: str
    before: str  # the expression up to the faulty character
    at: str  # the faulty character ("" at the end)
    after: str
    position: int | None


def _check_view(expr: str, message: str, position: int | None) -> CheckView | None:
    if not expr:
        return None
    if not message:
        return CheckView(True, "表达式正确", expr, "", "", None)
    if position is None:
        return CheckView(False, message, expr, "", "", None)
    return CheckView(
        False, message, expr[:position], expr[position : position + 1], expr[position + 1 :], position
    )
