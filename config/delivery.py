"""How hard delivery tries and when an event is told again: the `delivery` and `realert` blocks of
alerts.yaml. Defaults suit an office that patrols hourly."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DeliveryPolicy(BaseModel):
    """Retries with exponential backoff, and when a channel counts as dead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts_per_channel: int = Field(default=3, ge=1, le=20)
    retry_after_seconds: float = Field(default=30, gt=0)
    max_retry_after_seconds: float = Field(default=3600, gt=0)
    dead_after_failures: int = Field(default=3, ge=1)
    retry_dead_after_seconds: float = Field(default=600, gt=0)
    # How long one run waits for a rate window or a retry before leaving the rest to the next run.
    wait_seconds: float = Field(default=90, ge=0, le=3600)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: 30, 60, 120 … up to the maximum."""
        return min(self.retry_after_seconds * 2 ** max(attempts - 1, 0), self.max_retry_after_seconds)


class RealertPolicy(BaseModel):
    """An event is told once per level; at the same level again only when it keeps growing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    growth_percent: float = Field(default=50, gt=0)
    first_after_minutes: float = Field(default=60, gt=0)
    max_after_hours: float = Field(default=24, gt=0)

    def wait_minutes(self, realerts_so_far: int) -> float:
        """Minutes after the last alert before growth may be told again: 60, 120, 240 … up to the maximum."""
        return min(self.first_after_minutes * 2**realerts_so_far, self.max_after_hours * 60)
