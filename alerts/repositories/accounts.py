"""Accounts and the audit trail: who may act, and the hash-chained record of what each did or was refused
(the file itself refuses to change or remove an audit row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, select, update

from alerts.database import AlertsDatabase
from alerts.schema import accounts, audit, ended_sessions


class AccountRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def get(self, name: str) -> RowMapping | None:
        return self.db.execute(select(accounts).where(accounts.c.name == name)).mappings().first()

    def all(self) -> list[RowMapping]:
        return list(
            self.db.execute(select(accounts).order_by(accounts.c.created_at, accounts.c.name)).mappings()
        )

    def add(self, name: str, role: str, unit: str | None, created_at: str, created_by: str) -> None:
        self.db.execute(
            accounts.insert().values(
                name=name, role=role, unit=unit, created_at=created_at, created_by=created_by
            )
        )

    def disable(self, name: str, at: str, by: str) -> None:
        self.db.execute(
            update(accounts).where(accounts.c.name == name).values(disabled_at=at, disabled_by=by)
        )

    def set_notify_from(self, name: str, value: str | None) -> None:
        self.db.execute(update(accounts).where(accounts.c.name == name).values(notify_from=value))

    # -- passwords and the login counter ------------------------------------------------------------------

    def set_password(self, name: str, password_hash: str, changed_at: str, history: str) -> None:
        """A new password hash, with the hashes kept against reuse (JSON); it clears any lock."""
        self.db.execute(
            update(accounts)
            .where(accounts.c.name == name)
            .values(
                password_hash=password_hash,
                password_changed_at=changed_at,
                password_history=history,
                failed_logins=0,
                locked_until=None,
            )
        )

    def count_failure(self, name: str, failed: int, locked_until: str | None) -> None:
        """Failed logins in a row so far, and when a lock they caused ends (None: not locked)."""
        self.db.execute(
            update(accounts)
            .where(accounts.c.name == name)
            .values(failed_logins=failed, locked_until=locked_until)
        )

    # -- console sessions ended by logout --------------------------------------------------------------

    def end_session(self, sid: str, account: str, at: str, expires_at: str) -> None:
        """Refuses the session `sid` from now on; rows of sessions expired by `at` are dropped."""
        self.db.execute(delete(ended_sessions).where(ended_sessions.c.expires_at < at))
        if not self.session_ended(sid):
            self.db.execute(
                ended_sessions.insert().values(sid=sid, account=account, ended_at=at, expires_at=expires_at)
            )

    def session_ended(self, sid: str) -> bool:
        found = self.db.execute(select(ended_sessions.c.sid).where(ended_sessions.c.sid == sid)).first()
        return found is not None

    # -- the audit trail ----------------------------------------------------------------------------

    def trail(self, *, account: str | None = None, target: str | None = None) -> list[RowMapping]:
        query = select(audit).order_by(audit.c.id)
        if account is not None:
            query = query.where(audit.c.account == account)
        if target is not None:
            query = query.where(audit.c.target == target)
        return list(self.db.execute(query).mappings())

    def search(
        self,
        *,
        account: str = "",
        action: str = "",
        origin: str = "",
        start: str = "",
        end: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> list[RowMapping]:
        """Audit rows newest first, narrowed by whatever is given (times as stored: ISO text)."""
        query = select(audit).order_by(audit.c.id.desc()).offset(offset).limit(limit)
        for column, value in ((audit.c.account, account), (audit.c.action, action), (audit.c.origin, origin)):
            if value:
                query = query.where(column == value)
        if start:
            query = query.where(audit.c.at >= start)
        if end:
            query = query.where(audit.c.at < end)
        return list(self.db.execute(query).mappings())

    def last_hash(self) -> str:
        """The hash of the newest audit row; empty before the first."""
        return self.db.execute(select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)).scalar() or ""

    def append(self, row: dict[str, Any]) -> None:
        self.db.execute(audit.insert().values(**row))
