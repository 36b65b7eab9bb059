"""A generic JSON webhook, for an office's own duty screen or ticket system: any 2xx is delivered.

Each POST carries an `Idempotency-Key` header that is the same on every resend of one delivery, so the
receiver can drop the repeat the at-least-once guarantee may bring after a crash.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests

from alerts.channels.base import DeliveryResult, Message
from alerts.channels.http import HttpChannel
from config.channels import WebhookOptions


def idempotency_key(key: str) -> str:
    """An ASCII header value for a delivery key that holds unit names in Chinese."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class WebhookChannel(HttpChannel):
    type = "webhook"
    platform = "接收方（Webhook）"
    options_model = WebhookOptions

    options: WebhookOptions

    def __init__(self, name: str, options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self._token = self.secret(self.options.token_env) if self.options.token_env else None

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.key,
            "recipient": message.recipient,
            "subject": message.subject,
            "text": message.body,
            "level": message.level.value if message.level else None,
            "alert": dict(message.data) if message.data is not None else None,
        }

    def send(self, message: Message) -> DeliveryResult:
        headers = {"Idempotency-Key": idempotency_key(message.key)}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        try:
            reply = self.post(self.url, self.payload(message), headers)
        except requests.RequestException as exc:
            return self.unreachable(exc)
        return self.http_error(reply) or DeliveryResult(ok=True)
