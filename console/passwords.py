"""Account passwords: argon2 hashes, the password rules, and the login counter that locks an account after
repeated failures. The rows are read and written through the accounts repository
(alerts/repositories/accounts.py), the alerts database's one place for their queries."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from alerts.accounts import Account, AccountError, Accounts
from alerts.calendar import SHANGHAI

MIN_LENGTH = 8
MAX_FAILURES = 5  # consecutive failed logins before the account locks
LOCKED_FOR = timedelta(minutes=30)
HISTORY = 5  # a new password may not repeat any of the last five

_hasher = PasswordHasher()

# One message for an unknown name and a wrong password, so the form does not tell which names exist.
WRONG = "用户名或密码错误"
NAME_LIMIT = 64  # a longer name is no account's; the audit trail keeps only this much of it


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_password(name: str, password: str) -> None:
    """The rules of GB/T 22239 third level as offices apply them: length, variety, not the name."""
    if len(password) < MIN_LENGTH:
        raise AccountError(f"密码至少 {MIN_LENGTH} 个字符")
    if _classes(password) < 3:
        raise AccountError("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    if name.lower() in password.lower():
        raise AccountError("密码不能包含账号名")


@dataclass(frozen=True, slots=True)
class Credentials:
    password_hash: str | None
    changed_at: str | None
    history: list[str]
    failed: int
    locked_until: datetime | None


def credentials(book: Accounts, name: str) -> Credentials | None:
    row = book.records.get(name)
    if row is None:
        return None
    locked = row["locked_until"]
    return Credentials(
        password_hash=row["password_hash"],
        changed_at=row["password_changed_at"],
        history=json.loads(row["password_history"] or "[]"),
        failed=row["failed_logins"],
        locked_until=datetime.fromisoformat(locked) if locked else None,
    )


def set_password(book: Accounts, name: str, password: str, *, by: Account | str, origin: str) -> None:
    """Sets `name`'s password (hashed) after the rules; it unlocks the account. Audited, without the password."""
    with (
        book.on_record(by if isinstance(by, str) else by.name, "user_passwd", name),
        book.records.db.transaction(),
    ):
        account = book.acting(name)
        check_password(account.name, password)
        current = credentials(book, name)
        history = current.history if current else []
        if any(_verify(old, password) for old in history):
            raise AccountError(f"新密码不能与最近 {HISTORY} 次使用过的密码相同")
        hashed = _hasher.hash(password)
        book.records.set_password(
            name,
            hashed,
            changed_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            history=json.dumps([hashed, *history][:HISTORY]),
        )
        book.record(by, "user_passwd", name, detail=account.describe(), origin=origin)


@dataclass(frozen=True, slots=True)
class Login:
    account: Account | None  # None: refused, `reason` says why in the words the person reads
    reason: str = ""
    stamp: str = ""  # when the password was set: a session carries it, so a new password ends old sessions


def locked_message(until: datetime) -> str:
    return (
        f"该账号因连续 {MAX_FAILURES} 次登录失败已锁定，请于北京时间 "
        f"{until.astimezone(SHANGHAI):%H:%M} 后再试，或请管理员重设密码解锁"
    )


def log_in(book: Accounts, name: str, password: str, *, origin: str) -> Login:
    """Checks a login; counts failures and locks the account at MAX_FAILURES. Wall-clock time, not the
    demo's clock: a lock is for real minutes."""
    now = datetime.now(UTC)
    name = name if len(name) <= NAME_LIMIT else name[:NAME_LIMIT] + "…"
    with book.records.db.transaction():
        account = book.get(name) if name else None
        found = credentials(book, name) if account else None
        if account is None or found is None or not found.password_hash or not account.enabled:
            _verify(_dummy_hash(), password)  # as long as a wrong password takes: no name is revealed
            book.record(name or "（未指明）", "login", name, outcome="refused", detail=WRONG, origin=origin)
            return Login(None, WRONG)
        if found.locked_until and found.locked_until > now:
            reason = locked_message(found.locked_until)
            book.record(account, "login", name, outcome="refused", detail=reason, origin=origin)
            return Login(None, reason)
        if not _verify(found.password_hash, password):
            failed = found.failed + 1
            locked = now + LOCKED_FOR if failed >= MAX_FAILURES else None
            book.records.count_failure(
                name, 0 if locked else failed, locked.isoformat(timespec="seconds") if locked else None
            )
            reason = locked_message(locked) if locked else WRONG
            detail = f"密码错误（连续第 {failed} 次）" + ("，账号锁定" if locked else "")
            book.record(account, "login", name, outcome="refused", detail=detail, origin=origin)
            return Login(None, reason)
        book.records.count_failure(name, 0, None)
        book.record(account, "login", name, origin=origin)
    return Login(account, stamp=found.changed_at or "")


def change_own_password(book: Accounts, account: Account, current: str, new: str, *, origin: str) -> None:
    """A person changing their own password: the current one first, checked as a login is (a wrong one
    counts toward the lock), then the rules of `set_password`. Raises AccountError saying why not."""
    refused = log_in(book, account.name, current, origin=origin)
    if refused.account is None:
        raise AccountError(refused.reason if refused.reason != WRONG else "当前密码不正确")
    set_password(book, account.name, new, by=account, origin=origin)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
