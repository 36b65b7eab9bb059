"""The keyword rules' versions in the alerts database (alerts/rulebook.py decides what is saved)."""

from __future__ import annotations

from sqlalchemy import RowMapping, select

from alerts.database import AlertsDatabase
from alerts.schema import rule_versions


class RuleVersionRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def all(self) -> list[RowMapping]:
        """Every version, newest first."""
        return list(self.db.execute(select(rule_versions).order_by(rule_versions.c.id.desc())).mappings())

    def newest(self) -> RowMapping | None:
        query = select(rule_versions).order_by(rule_versions.c.id.desc()).limit(1)
        return self.db.execute(query).mappings().first()

    def get(self, number: int) -> RowMapping | None:
        return self.db.execute(select(rule_versions).where(rule_versions.c.id == number)).mappings().first()

    def add(
        self, *, saved_at: str, account: str, reason: str, body: str, digest: str, restored_from: int | None
    ) -> int:
        result = self.db.execute(
            rule_versions.insert().values(
                saved_at=saved_at,
                account=account,
                reason=reason,
                body=body,
                digest=digest,
                restored_from=restored_from,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])
