"""The audit trail for supervisors and administrators: every recorded action, newest first, narrowed by
account, action, origin (网页 or 命令行) and dates in Beijing time, 100 rows a page. Read only: the
database refuses to change or remove a trail row, and each row carries the hash of the one before."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from alerts.cases import ACTION_LABELS
from console.web import Forbidden, Web

PAGE = 100
# Every action the trail records, in the words the page shows.
ACTIONS = {
    "login": "登录",
    "logout": "退出登录",
    "user_add": "添加账号",
    "user_disable": "停用账号",
    "user_passwd": "设置密码",
    "signoff": "巡查签收",
    "preferences": "提醒设置",
    "rules_save": "保存规则",
    "rules_restore": "恢复规则版本",
    "rule_mark": "标注规则命中",
    "label": "更正研判",
    **{k: v for k, v in ACTION_LABELS.items() if k not in ("approve_extension", "deny_extension")},
    "approve_extension": "批准延期",
    "deny_extension": "驳回延期",
}
ORIGINS = {"web": "网页", "shell": "命令行"}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def register(app: FastAPI, web: Web) -> None:
    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        if account.role not in (Role.SUPERVISOR, Role.ADMIN):
            raise Forbidden("审计记录仅供督办和管理员账号查看")
        query = request.query_params
        who, action, origin = (
            query.get("account", "").strip(),
            query.get("action", ""),
            query.get("origin", ""),
        )
        first, last = _day(query.get("from", "")), _day(query.get("to", ""))
        page = max(int(query["page"]), 1) if query.get("page", "").isdigit() else 1
        with web.opened() as workflow:
            rows = workflow.accounts.audit_page(
                account=who,
                action=action if action in ACTIONS else "",
                origin=origin if origin in ORIGINS else "",
                start=datetime.combine(first, time(), SHANGHAI) if first else None,
                end=datetime.combine(last + timedelta(days=1), time(), SHANGHAI) if last else None,
                offset=(page - 1) * PAGE,
                limit=PAGE + 1,  # one more tells whether a next page exists
            )
        kept = {k: v for k, v in query.items() if k != "page" and v}
        return web.page(
            request,
            "audit.html",
            rows=rows[:PAGE],
            actions=ACTIONS,
            origins=ORIGINS,
            who=who,
            action=action,
            origin=origin,
            first=first.isoformat() if first else "",
            last=last.isoformat() if last else "",
            page_no=page,
            previous=urlencode({**kept, "page": page - 1}) if page > 1 else "",
            following=urlencode({**kept, "page": page + 1}) if len(rows) > PAGE else "",
        )
