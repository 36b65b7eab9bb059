"""The keyword rules' versions in the alerts database (alerts/rulebook.py decides what is saved)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import RowMapping, delete, func, select

from alerts.database import AlertsDatabase
from alerts.schema import rule_marks, rule_versions


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


class RuleMarkRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def set(self, *, post_id: str, rule_id: str, verdict: str, account: str, marked_at: str) -> None:
        """The mark of one post's hit of one rule, replacing any earlier one (inside the caller's transaction)."""
        self.db.execute(
            delete(rule_marks).where(rule_marks.c.post_id == post_id, rule_marks.c.rule_id == rule_id)
        )
        self.db.execute(
            rule_marks.insert().values(
                post_id=post_id, rule_id=rule_id, verdict=verdict, account=account, marked_at=marked_at
            )
        )

    def of_posts(self, post_ids: Collection[str]) -> dict[tuple[str, str], RowMapping]:
        if not post_ids:
            return {}
        query = select(rule_marks).where(rule_marks.c.post_id.in_(list(post_ids)))
        return {(row["post_id"], row["rule_id"]): row for row in self.db.execute(query).mappings()}

    def tally(self) -> dict[str, dict[str, int]]:
        """For each rule, how many of its hits were marked each way ({"right": n, "wrong": m})."""
        query = select(rule_marks.c.rule_id, rule_marks.c.verdict, func.count()).group_by(
            rule_marks.c.rule_id, rule_marks.c.verdict
        )
        found: dict[str, dict[str, int]] = {}
        for rule_id, verdict, count in self.db.execute(query):
            found.setdefault(rule_id, {})[verdict] = count
        return found
