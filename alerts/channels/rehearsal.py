"""The demo's stand-in for every channel but the console: the demo's alerts are invented, so they are shown
on the console with the channel they would have taken, and never reach a real person."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from alerts.channels.base import CHANNEL_KINDS, Channel, DeliveryResult, Message
from config.channels import ConsoleOptions

# The environment a demo runs in (commands.demo) and the switch that lets it send for real.
DEMO_VARIABLE = "YUQING_DEMO"
DELIVER_VARIABLE = "YUQING_DEMO_DELIVER"


def rehearsing(environ: Mapping[str, str]) -> bool:
    """Whether channels are to be rehearsed: in a demo, unless it was asked to deliver."""
    return environ.get(DEMO_VARIABLE) == "1" and environ.get(DELIVER_VARIABLE) != "1"


class RehearsalChannel(Channel):
    type = "rehearsal"
    options_model = ConsoleOptions

    def __init__(self, name: str, kind: str, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(name, {}, **kwargs)
        self.kind = kind
        self.stream = stream

    def send(self, message: Message) -> DeliveryResult:
        stream = self.stream or sys.stdout
        stream.write(
            f"\n── 演示，未真实发送（实际将经{CHANNEL_KINDS.get(self.kind, self.kind)}渠道「{self.name}」）"
            f"致 {message.recipient} ──\n"
            f"{message.body}\n"
        )
        stream.flush()
        return DeliveryResult(ok=True)
