"""The console channel: alerts printed where duty staff watch the patrol run. Always available."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from alerts.channels.base import Channel, DeliveryResult, Message
from config.channels import ConsoleOptions


class ConsoleChannel(Channel):
    type = "console"
    options_model = ConsoleOptions

    def __init__(
        self, name: str, options: Mapping[str, Any], stream: TextIO | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name, options, **kwargs)
        self.stream = stream

    def send(self, message: Message) -> DeliveryResult:
        stream = self.stream or sys.stdout
        stream.write(f"\n── 致 {message.recipient} ──\n{message.body}\n")
        stream.flush()
        return DeliveryResult(ok=True)
