"""What the webhook channels share: one JSON POST with a timeout through a passed-in session, and the
reading of an answer whose HTTP status may say 200 while its body says the message was refused."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from alerts.channels.base import Channel, ChannelUnavailable, DeliveryResult, Message, host_of, redact
from config.channels import BotOptions, WebhookOptions

logger = logging.getLogger(__name__)


class _RedactTokens(logging.Filter):
    """urllib3 logs each request line, query string and all; the token in it must not reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactTokens())


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    data: Any  # the parsed JSON body, or None when it is not JSON
    text: str  # the start of the body, for error messages
    retry_after: float | None


class HttpChannel(Channel):
    """A channel that POSTs JSON to a URL held in the environment variable named by `url_env`."""

    platform: ClassVar[str]
    options: WebhookOptions | BotOptions

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        session: requests.Session | None = None,
        environ: Mapping[str, str] | None = None,
        timer: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, options, environ=environ, timer=timer)
        variable = self.options.url_env
        self.url = self.secret(variable).get_secret_value()
        if not self.url.startswith(("https://", "http://")):
            raise ChannelUnavailable(name, f"环境变量 {variable} 的值不是 http(s) 网址")
        # Error texts quote the path and query alone (e.g. requests' "Max retries exceeded with url: …"),
        # which for many webhooks is where the token is.
        parts = urlsplit(self.url)
        self._secrets.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        self.session = session or requests.Session()

    def post(self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Reply:
        """One POST; raises `requests.RequestException` when no answer came."""
        response = self.session.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
            timeout=self.options.timeout_seconds,
            allow_redirects=False,
        )
        logger.info("%s: POST %s → HTTP %d", self.name, host_of(url), response.status_code)
        try:
            data = response.json()
        except ValueError:
            data = None
        retry_after = response.headers.get("Retry-After", "")
        return Reply(
            response.status_code,
            data,
            response.text[:200],
            float(retry_after) if retry_after.isdigit() else None,
        )

    def failed(
        self, error: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> DeliveryResult:
        return DeliveryResult(ok=False, error=self.scrub(error), retry_after=retry_after, permanent=permanent)

    def unreachable(self, exc: requests.RequestException) -> DeliveryResult:
        return self.failed(f"连不上{self.platform}：{type(exc).__name__}: {exc}")

    def http_error(self, reply: Reply) -> DeliveryResult | None:
        """A failure when the HTTP status is not 2xx; None when it is."""
        if 200 <= reply.status < 300:
            return None
        # 4xx other than timeouts and throttling means the request itself is wrong: retrying cannot help.
        permanent = 400 <= reply.status < 500 and reply.status not in (408, 429)
        return self.failed(
            f"{self.platform}返回 HTTP {reply.status}：{reply.text!r}",
            retry_after=reply.retry_after,
            permanent=permanent,
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "to": host_of(self.url)}


class BotChannel(HttpChannel):
    """A group bot that answers HTTP 200 with a JSON body whose code field says what really happened."""

    code_field: ClassVar[str]
    message_field: ClassVar[str]
    # Codes meaning "too fast", with how long the platform holds the bot back.
    throttle_codes: ClassVar[Mapping[int, float]] = {}
    # Codes meaning the bot or its configuration is wrong (signature, keywords, IP list, token).
    permanent_codes: ClassVar[frozenset[int]] = frozenset()

    def read_reply(self, reply: Reply) -> DeliveryResult:
        if failure := self.http_error(reply):
            return failure
        if not isinstance(reply.data, dict):
            return self.failed(f"{self.platform}返回 HTTP {reply.status}，但内容不是 JSON：{reply.text!r}")
        code = reply.data.get(self.code_field, reply.data.get("StatusCode"))
        if code == 0:
            return DeliveryResult(ok=True)
        if not isinstance(code, int):
            return self.failed(f"{self.platform}的回复里没有 {self.code_field}：{reply.text!r}")
        message = reply.data.get(self.message_field, reply.data.get("StatusMessage", ""))
        return self.failed(
            f"{self.platform}拒收：{self.code_field} {code} {message}",
            retry_after=self.throttle_codes.get(code),
            permanent=code in self.permanent_codes,
        )

    def mentioned(self, message: Message) -> tuple[list[str], bool]:
        """Who is @-mentioned for this recipient, and whether the whole group is (by level)."""
        options = self.options
        if not isinstance(options, BotOptions):
            return [], False  # a plain webhook mentions nobody
        threshold = options.mention_all_from
        everyone = (
            threshold is not None and message.level is not None and message.level.rank >= threshold.rank
        )
        return list(options.mentions.get(message.recipient, [])), everyone
