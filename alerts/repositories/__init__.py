"""The queries on the alerts database, one repository per group of tables, each on the connection and
inside the transactions of the file's owner (alerts/database.py). Written in SQLAlchemy Core, so the same
query runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from alerts.database import AlertsDatabase


def upsert(database: AlertsDatabase, table: Table) -> Any:
    """An INSERT that can say what to do on a conflict (`on_conflict_do_nothing`, `…_do_update`)."""
    dialect = postgresql if database.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
