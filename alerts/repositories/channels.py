"""The channel ledger: each channel's health (consecutive failures, dead since, held back until) and the
times of its sends, on which its rate windows are counted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from alerts.database import AlertsDatabase
from alerts.repositories import upsert
from alerts.schema import channel_health, channel_sends


@dataclass(frozen=True, slots=True)
class Health:
    channel: str
    failures: int  # consecutive
    last_error: str | None
    last_failure_at: float | None
    last_success_at: float | None
    dead_since: float | None
    resume_at: float | None  # the platform holds the channel back until then (e.g. DingTalk's 10 minutes)


_h = channel_health.c


class ChannelLedger:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def health(self, channel: str | None = None) -> list[Health]:
        query = select(
            _h.channel,
            _h.failures,
            _h.last_error,
            _h.last_failure_at,
            _h.last_success_at,
            _h.dead_since,
            _h.resume_at,
        ).order_by(_h.channel)
        if channel is not None:
            query = query.where(_h.channel == channel)
        return [Health(*row) for row in self.db.execute(query)]

    def ok(self, channel: str, at: float) -> None:
        statement = upsert(self.db, channel_health).values(channel=channel, failures=0, last_success_at=at)
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=["channel"],
                set_={"failures": 0, "last_success_at": at, "dead_since": None, "resume_at": None},
            )
        )

    def failed(self, channel: str, at: float, error: str, dead_after: int, resume_at: float | None) -> None:
        """One more consecutive failure; dead from `dead_after` of them on (call inside a transaction)."""
        statement = upsert(self.db, channel_health).values(
            channel=channel, failures=1, last_error=error, last_failure_at=at, resume_at=resume_at
        )
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=["channel"],
                set_={
                    "failures": _h.failures + 1,
                    "last_error": error,
                    "last_failure_at": at,
                    "resume_at": resume_at,
                },
            )
        )
        self.db.execute(
            update(channel_health)
            .where(_h.channel == channel, _h.failures >= dead_after)
            .values(dead_since=at)
        )

    def record_send(self, channel: str, at: float) -> None:
        self.db.execute(channel_sends.insert().values(channel=channel, at=at))

    def sends_since(self, channel: str, since: float) -> list[float]:
        c = channel_sends.c
        return list(self.db.execute(select(c.at).where(c.channel == channel, c.at > since)).scalars())

    def forget_sends(self, before: float) -> None:
        self.db.execute(delete(channel_sends).where(channel_sends.c.at < before))
