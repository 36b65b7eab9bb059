"""Who acts: the office's accounts (a name, a role and, for units and supervisors, the unit they act for)
and the audit trail of what each did or was refused.

Both live in the outbox's SQLite file beside the cases they act on, so an action and its audit row are
written in one transaction. Passwords, sessions and lockouts belong to the web console; their columns are
here already so the console adds logic, not a migration.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from alerts.calendar import SHANGHAI
from classifiers.types import Level
from config.errors import YuqingError

if TYPE_CHECKING:  # only named here: importing the cases' rules must not bring SQLAlchemy to `analyze`
    from sqlalchemy import RowMapping

    from alerts.repositories.accounts import AccountRepository

# Who acts from a shell without an account of their own: only to create the first administrator.
BOOTSTRAP = "本机初始化"
SHELL = "shell"

# What a shell user types to create the account they lack (said in every "no account" refusal).
HOW_TO_ADD = "yuqing user add 姓名 --role unit --unit 单位名"


class Refused(YuqingError):
    """An action the rules forbid; the message names the rule, in the words the person reads."""


class AccountError(Refused):
    """An account that cannot be created, found or used as asked."""


NOTIFY_OFF = "off"  # a person who wants no sound or desktop notification from the duty desk
LEVEL_VALUES = frozenset(level.value for level in Level)


class Role(StrEnum):
    DUTY = "duty"
    ANALYST = "analyst"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        """A role as typed: its English name or its Chinese one (督办, 责任单位 …)."""
        wanted = text.strip()
        for role in cls:
            if wanted.lower() == role.value or wanted == role.label:
                return role
        choices = "、".join(f"{r.value}（{r.label}）" for r in cls)
        raise AccountError(f"角色「{text}」不存在；可选：{choices}")


ROLE_LABELS = {
    Role.DUTY: "值班员",
    Role.ANALYST: "分析员",
    Role.UNIT: "责任单位",
    Role.SUPERVISOR: "督办",
    Role.ADMIN: "管理员",
}


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    unit: str | None
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None
    disabled_by: str | None = None
    has_password: bool = False
    notify_from: str | None = (
        None  # the duty desk's sound and notification: a level's value, OFF, or the default
    )

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def loud_from(self) -> Level | None:
        """The lowest level the duty desk beeps and notifies this person for; None: never."""
        if self.notify_from == NOTIFY_OFF:
            return None
        return Level(self.notify_from) if self.notify_from in LEVEL_VALUES else Level.SENSITIVE

    def describe(self) -> str:
        """王芳（责任单位，清丰县政府办）: how messages and the audit name an account."""
        return f"{self.name}（{self.role.label}{f'，{self.unit}' if self.unit else ''}）"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    account: str
    role: Role | None
    unit: str | None
    origin: str
    action: str
    target: str
    outcome: str  # done, refused
    detail: str
    hash: str


# A name is what people type after --as and what the history shows: one word, no blanks or control
# characters, not mistakable for an option.
_NAME = re.compile(r"[^\s\x00-\x1f\x7f-\x9f,;，；]{1,32}")


def check_name(name: str) -> str:
    if not name or not name.strip():
        raise AccountError("账号名不能为空")
    if not _NAME.fullmatch(name) or name.startswith("-"):
        raise AccountError(
            f"账号名「{name}」不可用：须为 1 到 32 个字符，不含空格、标点分隔符或控制字符，且不以 - 开头"
        )
    return name


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI)


def _entry(r: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=r["id"],
        at=_dt(r["at"]),
        account=r["account"],
        role=Role(r["role"]) if r["role"] else None,
        unit=r["unit"],
        origin=r["origin"],
        action=r["action"],
        target=r["target"],
        outcome=r["outcome"],
        detail=r["detail"],
        hash=r["hash"],
    )


def _maybe_dt(text: str | None) -> datetime | None:
    return _dt(text) if text else None


class Accounts:
    """The accounts and the audit trail of one alerts database, inside its transactions (`tx`), so an
    action on a case and its audit row are written together."""

    def __init__(
        self,
        records: AccountRepository,
        tx: Callable[[], AbstractContextManager[Any]],
        now: Callable[[], datetime],
        units: Callable[[], dict[str, str]],
        supervisors: Callable[[], list[str]],
    ) -> None:
        self.records = records
        self._tx = tx
        self.now = now
        self._units = units
        self._supervisors = supervisors

    # -- reading ------------------------------------------------------------------------------------

    def _from_row(self, row: RowMapping) -> Account:
        return Account(
            name=row["name"],
            role=Role(row["role"]),
            unit=row["unit"],
            created_at=_dt(row["created_at"]),
            created_by=row["created_by"],
            disabled_at=_maybe_dt(row["disabled_at"]),
            disabled_by=row["disabled_by"],
            has_password=bool(row["password_hash"]),
            notify_from=row["notify_from"],
        )

    def get(self, name: str) -> Account | None:
        row = self.records.get(name)
        return self._from_row(row) if row else None

    def _existing(self, name: str) -> Account:
        """An account just written in this transaction, so there."""
        account = self.get(name)
        if account is None:
            raise AccountError(f"没有名为「{name}」的账号（见 yuqing user list）")
        return account

    def all(self) -> list[Account]:
        return [self._from_row(r) for r in self.records.all()]

    def acting(self, name: str | None) -> Account:
        """The account someone acts as: it must exist and be enabled."""
        if name is None or not name.strip():
            raise AccountError(
                "未指明操作账号：请用 --as 账号名，或设置环境变量 YUQING_ACCOUNT；"
                f"还没有账号的，请管理员先创建：{HOW_TO_ADD}"
            )
        account = self.get(name)
        if account is None:
            raise AccountError(
                f"没有名为「{name}」的账号（见 yuqing user list）；请管理员先创建：{HOW_TO_ADD}"
            )
        if not account.enabled:
            raise AccountError(
                f"账号{account.describe()}已于 {account.disabled_at:%Y-%m-%d %H:%M} 停用，不能再操作"
            )
        return account

    def check_unit(self, unit: str) -> str:
        """A unit someone names must be one of units.yaml or territory.yaml."""
        units = self._units()
        if unit in units:
            return unit
        near = difflib.get_close_matches(unit, list(units), n=3, cutoff=0.5)
        hint = f"；是否指：{'、'.join(near)}" if near else ""
        raise AccountError(f"单位「{unit}」不存在：units.yaml 和 territory.yaml 里都没有这个单位{hint}")

    def set_notify_from(self, account: Account, value: str) -> None:
        """The person's own choice of desk alerts: a level's value (that level and louder) or NOTIFY_OFF."""
        if value != NOTIFY_OFF and value not in LEVEL_VALUES:
            raise AccountError(f"提醒级别「{value}」不存在")
        with self.records.db.transaction():
            self.records.set_notify_from(account.name, value)
            self.record(account, "preferences", account.name, detail=f"值班台提醒：{value}")

    def audit_trail(self, *, account: str | None = None, target: str | None = None) -> list[AuditEntry]:
        return [_entry(r) for r in self.records.trail(account=account, target=target)]

    def audit_page(
        self,
        *,
        account: str = "",
        action: str = "",
        origin: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """One page of the trail, newest first, narrowed as asked (`end` excluded)."""
        rows = self.records.search(
            account=account,
            action=action,
            origin=origin,
            start=_ts(start) if start else "",
            end=_ts(end) if end else "",
            offset=offset,
            limit=limit,
        )
        return [_entry(r) for r in rows]

    def verify_trail(self) -> int | None:
        """The id of the first audit row whose hash does not follow from the rows before it, or None."""
        prev = ""
        for row in self.records.trail():
            if row["prev_hash"] != prev or row["hash"] != _chain(prev, row):
                broken: int = row["id"]
                return broken
            prev = row["hash"]
        return None

    # -- writing ------------------------------------------------------------------------------------

    def record(
        self,
        actor: Account | str,
        action: str,
        target: str,
        *,
        outcome: str = "done",
        detail: str = "",
        origin: str = SHELL,
    ) -> None:
        """One audit row, inside the caller's transaction; each row carries the hash of the one before,
        so a row changed or removed behind the program's back shows (`verify_trail`)."""
        account = actor if isinstance(actor, Account) else None
        row: dict[str, str | None] = {
            "at": _ts(self.now()),
            "account": account.name if account else str(actor),
            "role": account.role.value if account else None,
            "unit": account.unit if account else None,
            "origin": origin,
            "action": action,
            "target": target,
            "outcome": outcome,
            "detail": detail,
        }
        with self._tx():
            prev = row["prev_hash"] = self.records.last_hash()
            row["hash"] = _chain(prev, row)
            self.records.append(row)

    def refused(self, actor: str | None, action: str, target: str, reason: str) -> None:
        """A refusal on record (its own transaction: the refused action's was rolled back)."""
        with self._tx():
            account = self.get(actor) if actor else None
            self.record(account or (actor or "（未指明）"), action, target, outcome="refused", detail=reason)

    def add(self, name: str, role: Role, unit: str | None, *, by: str | None) -> Account:
        """A new account. `by` is the administrator creating it; with no administrator yet, the first
        one may be created without (`by=None`), once."""
        with self.on_record(by, "user_add", name), self._tx():
            check_name(name)
            creator = self._administrator(by, creating=role)
            unit = self._unit_for(role, unit)
            if self.get(name) is not None:
                raise AccountError(f"账号「{name}」已存在（见 yuqing user list）")
            self.records.add(name, role.value, unit, _ts(self.now()), creator.name if creator else BOOTSTRAP)
            account = self._existing(name)
            self.record(creator or BOOTSTRAP, "user_add", name, detail=account.describe())
        return account

    def disable(self, name: str, *, by: str | None) -> Account:
        with self.on_record(by, "user_disable", name), self._tx():
            admin = self._manager(by)
            account = self.get(name)
            if account is None:
                raise AccountError(f"没有名为「{name}」的账号（见 yuqing user list）")
            if not account.enabled:
                raise AccountError(f"账号{account.describe()}已停用")
            if account.role is Role.ADMIN and len(self._admins()) == 1:
                raise AccountError(
                    f"{account.describe()}是唯一启用的管理员，停用后无人能管理账号；请先添加另一名管理员"
                )
            self.records.disable(name, _ts(self.now()), admin.name)
            self.record(admin, "user_disable", name, detail=account.describe())
        return self._existing(name)

    @contextmanager
    def on_record(self, actor: str | None, action: str, target: str) -> Iterator[None]:
        """Around an action: a refusal inside it is recorded in the audit trail, then raised."""
        try:
            yield
        except Refused as exc:
            self.refused(actor, action, target, str(exc))
            raise

    def _admins(self) -> list[Account]:
        return [a for a in self.all() if a.role is Role.ADMIN and a.enabled]

    def _administrator(self, by: str | None, *, creating: Role | None) -> Account | None:
        """The administrator managing accounts; None only while there is none and the first is made."""
        if creating is Role.ADMIN and not self._admins():
            # The first administrator is made from the server's shell; whoever else is named does not count.
            return None
        return self._manager(by)

    def _manager(self, by: str | None) -> Account:
        """The administrator `by` names, who may add and disable accounts."""
        if not self._admins():
            raise AccountError(
                "还没有管理员账号：请先创建第一个管理员（yuqing user add 姓名 --role admin），"
                "再以该账号（--as 姓名）管理其他账号"
            )
        account = self.acting(by)
        if account.role is not Role.ADMIN:
            raise AccountError(f"{account.describe()}不能管理账号：账号只能由管理员添加、停用")
        return account

    def _unit_for(self, role: Role, unit: str | None) -> str | None:
        if unit is not None and not unit.strip():
            unit = None
        if role is Role.SUPERVISOR:
            supervisors = self._supervisors()
            if unit not in supervisors:
                raise AccountError(
                    f"督办账号须用 --unit 指明 {' 或 '.join(supervisors)}，收到 {unit or '（未指明）'}"
                )
            return unit
        if role is Role.UNIT and unit is None:
            raise AccountError(
                "责任单位账号须用 --unit 指明所属单位（units.yaml 或 territory.yaml 中的单位名）"
            )
        return self.check_unit(unit) if unit is not None else None


def _chain(prev: str, row: RowMapping | Mapping[str, object]) -> str:
    fields = ("at", "account", "role", "unit", "origin", "action", "target", "outcome", "detail")
    payload = json.dumps([prev, *(row[f] for f in fields)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def roles_help() -> str:
    return "|".join(r.value for r in Role) + "（也可写中文：" + "、".join(r.label for r in Role) + "）"
