"""One interface for every way an alert reaches a person: `send(message) -> DeliveryResult`.

A channel makes exactly one attempt; retries, rate windows and fallbacks belong to the dispatcher.
Secrets are read from the environment by name and scrubbed from every error a channel reports.
"""

from __future__ import annotations

import builtins
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import SecretStr

from classifiers.types import Level
from config.channels import ChannelOptions, RateLimit
from config.errors import YuqingError
from config.secrets import Masker, mask, remember

# The kinds of channel (`type` in alerts.yaml) as people know them.
CHANNEL_KINDS = {
    "console": "控制台",
    "email": "邮件",
    "webhook": "Webhook",
    "dingtalk": "钉钉机器人",
    "wecom": "企业微信机器人",
    "feishu": "飞书机器人",
}


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str
    subject: str
    body: str
    key: str = ""  # the delivery's idempotency key: the same on every resend to this recipient
    level: Level | None = None
    data: Mapping[str, Any] | None = None  # the alert itself, for channels that carry structure


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    error: str | None = None
    # The platform asked us to slow down: not again on this channel before this many seconds.
    retry_after: float | None = None
    # Trying this channel again cannot help (bad signature, unknown address): go on to the next one.
    permanent: bool = False


class DeliveryError(YuqingError):
    """A message could not be delivered."""


class ChannelUnavailable(DeliveryError):
    """A channel cannot be built here, e.g. the variable holding its webhook URL is not set."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"渠道 {channel}：{reason}")
        self.channel = channel
        self.reason = reason


# Token-like parts of webhook URLs, masked even when the value is not known (e.g. in urllib3's log).
_TOKEN_PATTERNS = (
    re.compile(r"((?:access_token|key|token|sign|secret)=)[^&\s'\"]+", re.IGNORECASE),
    re.compile(r"(/open-apis/bot/v2/hook/)[^\s/?'\"]+"),
)


def redact(text: str) -> str:
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def truncate_utf8(text: str, max_bytes: int, marker: str = "…（已截断）") -> str:
    """`text` cut to `max_bytes` of UTF-8 on a character boundary, marked when cut."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(marker.encode("utf-8"))
    return data[: max(room, 0)].decode("utf-8", errors="ignore") + marker


class Channel:
    type: ClassVar[str]
    # `builtins.type`: inside the class body `type` is the channel's own name above.
    options_model: ClassVar[builtins.type[ChannelOptions]] = ChannelOptions
    # The platform's documented limits as (messages, seconds) windows; `rate_limits` replaces them.
    default_limits: ClassVar[tuple[tuple[int, float], ...]] = ()

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        timer: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.options = self.options_model.model_validate(dict(options))
        self._environ = os.environ if environ is None else environ
        # Signatures are checked against the platform's own clock, so they take real time even when the
        # business clock is frozen (YUQING_NOW).
        self._timer = timer
        self._secrets: list[str] = []

    def secret(self, variable: str) -> SecretStr:
        """The value of an environment variable named in the options; unavailable when it is not set."""
        value = self._environ.get(variable, "").strip()
        if not value:
            raise ChannelUnavailable(self.name, f"环境变量 {variable} 未设置")
        self._secrets.append(value)
        remember(value)  # masked in this process's logs and stored errors from now on
        return SecretStr(value)

    def scrub(self, text: str) -> str:
        """`text` with every secret of this channel masked, for errors that are stored and logged: the
        values and their token-like parts (a bare webhook key the platform repeats), then any other
        secret the process knows."""
        return redact(mask(Masker(self._secrets).mask(text)))

    @property
    def limits(self) -> list[RateLimit]:
        if self.options.rate_limits is not None:
            return list(self.options.rate_limits)
        return [RateLimit(count=count, seconds=seconds) for count, seconds in self.default_limits]

    def send(self, message: Message) -> DeliveryResult:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What `yuqing doctor` shows: never a secret."""
        info: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.limits:
            info["rate"] = ", ".join(f"{limit.count}/{limit.seconds:g}s" for limit in self.limits)
        return info


def host_of(url: str) -> str:
    """Where a URL points, without its path or query (which may carry the token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
