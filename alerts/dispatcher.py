"""Drains the outbox: plans one delivery per alert, channel and recipient, sends, records the result.

At least once: a delivery is marked sent only after its channel acknowledged it; a failed or
interrupted one stays pending and is sent again on the next run, never one already marked sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from alerts.channels import CHANNELS, Channel, Message
from alerts.outbox import Outbox
from config.models import AlertsFile

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class DispatchReport:
    sent: int = 0
    failed: int = 0


def build_channels(config: AlertsFile, overrides: Mapping[str, Channel] | None = None) -> dict[str, Channel]:
    channels = {
        c.name: CHANNELS[c.type](c.name, dict(c.options)) for c in config.channels if c.type in CHANNELS
    }
    channels.update(overrides or {})
    return channels


CONSOLE_RECIPIENT = "控制台"


def plan_deliveries(alert_key: str, recipients: list[str], config: AlertsFile) -> list[tuple[str, str]]:
    """(channel, recipient) pairs from the configuration: each recipient's own channels; recipients with
    none are shown once on every console channel, where duty staff watch (the message lists every unit).
    Planned from config, not from what is up now, so a channel that is down keeps its deliveries pending."""
    configured = {c.name: c.type for c in config.channels}
    pairs: list[tuple[str, str]] = []
    unrouted = False
    for recipient in recipients:
        named = [c for c in config.recipients.get(recipient, []) if c in configured]
        pairs.extend((c, recipient) for c in named)
        unrouted = unrouted or not named
    if unrouted:
        pairs.extend((name, CONSOLE_RECIPIENT) for name, kind in configured.items() if kind == "console")
    return pairs


def dispatch(
    outbox: Outbox, config: AlertsFile, channels: Mapping[str, Channel], now: Callable[[], datetime]
) -> DispatchReport:
    for alert in outbox.unplanned():
        for channel, recipient in plan_deliveries(alert.key, alert.recipients(), config):
            outbox.plan(alert.key, channel, recipient)
    report = DispatchReport()
    for alert, channel_name, recipient in outbox.undelivered():
        channel = channels.get(channel_name)
        if channel is None:
            outbox.mark(alert.key, channel_name, recipient, ok=False, error="channel not available", at=now())
            report.failed += 1
            continue
        message = Message(
            recipient=recipient, subject=f"【{alert.level.value}】{alert.title}", body=alert.render()
        )
        try:
            result = channel.send(message)
        except Exception as exc:  # a channel bug must not stop the others
            logger.exception("channel %s failed for %s", channel_name, alert.key)
            result_ok, error = False, f"{type(exc).__name__}: {exc}"
        else:
            result_ok, error = result.ok, result.error
        outbox.mark(alert.key, channel_name, recipient, ok=result_ok, error=error, at=now())
        if result_ok:
            report.sent += 1
        else:
            report.failed += 1
            logger.warning(
                "delivery of %s to %s via %s failed: %s", alert.key, recipient, channel_name, error
            )
    return report
