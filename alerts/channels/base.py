"""One interface for every way an alert reaches a person: `send(message) -> DeliveryResult`.

A channel makes exactly one attempt; retries and fallbacks belong to the dispatcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    error: str | None = None


class Channel:
    type: ClassVar[str]

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    def send(self, message: Message) -> DeliveryResult:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What `yuqing doctor` shows: never a secret."""
        return {"name": self.name, "type": self.type}
