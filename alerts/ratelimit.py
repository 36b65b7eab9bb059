"""Sliding-window rate limits: how long until one more message fits every window of a channel.

Pure; the dispatcher keeps the send times in the outbox, so a new process sees what the last one sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.channels import RateLimit


def wait_for(sent_at: Sequence[float], limits: Sequence[RateLimit], now: float) -> float:
    """Seconds until one more send stays within every `count` per `seconds` window (0 when it fits now)."""
    wait = 0.0
    for limit in limits:
        recent = sorted(t for t in sent_at if t > now - limit.seconds)
        if len(recent) >= limit.count:
            # The send that has to leave the window before one more fits.
            leaving = recent[len(recent) - limit.count]
            wait = max(wait, leaving + limit.seconds - now)
    return wait
