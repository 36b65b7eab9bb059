"""What each delivery channel may hold under `options` in alerts.yaml, checked when the file is loaded.

Secrets never appear in the file: an option ending in `_env` names the environment variable (or `.env`
entry) that holds the webhook URL, signing secret, token or password.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from classifiers.types import Level
from config.errors import explain

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
Mobile = Annotated[str, StringConstraints(pattern=r"^1\d{10}$")]

# A key an office might write the secret itself under, and the key that names its variable instead.
_LITERAL_SECRETS = {
    "url": "url_env",
    "webhook": "url_env",
    "access_token": "url_env",
    "key": "url_env",
    "secret": "secret_env",
    "password": "password_env",
    "token": "token_env",
}


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=1)
    seconds: float = Field(gt=0)


class ChannelOptions(BaseModel):
    """Options every channel takes. `rate_limits` replaces the platform's documented limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limits: list[RateLimit] | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="before")
    @classmethod
    def _no_literal_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in _LITERAL_SECRETS.items():
                if key in data:
                    raise ValueError(
                        f"{key}：密钥、密码和机器人地址不写在 alerts.yaml 里；请把它放进环境变量（或不入库的 "
                        f".env 文件），在这里用 {instead} 写出变量名"
                    )
        return data


class ConsoleOptions(ChannelOptions):
    pass


class EmailOptions(ChannelOptions):
    """SMTP. `to` maps a unit to its addresses; `default_to` receives for units not listed."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str | None = None
    password_env: EnvName | None = None
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: dict[str, list[Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]]] = Field(
        default_factory=dict
    )
    default_to: list[Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _login_needs_password(self) -> EmailOptions:
        if self.user and not self.password_env:
            raise ValueError("写了 user 却没写 password_env：请写出存放密码的环境变量名")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]


class WebhookOptions(ChannelOptions):
    """A generic JSON POST; `token_env` (optional) is sent as `Authorization: Bearer …`."""

    url_env: EnvName
    token_env: EnvName | None = None


class BotOptions(ChannelOptions):
    """A group bot. `mentions` maps a unit to the people @-mentioned when it is told; from
    `mention_all_from` upwards everyone in the group is."""

    url_env: EnvName
    mentions: dict[str, list[str]] = Field(default_factory=dict)
    mention_all_from: Level | None = None


class DingTalkOptions(BotOptions):
    secret_env: EnvName | None = None  # 加签; without it the bot must use keywords or an IP list
    msgtype: Literal["markdown", "text"] = "markdown"
    mentions: dict[str, list[Mobile]] = Field(default_factory=dict)  # DingTalk @-mentions by mobile


class WeComOptions(BotOptions):
    msgtype: Literal["text", "markdown"] = "text"
    mentions: dict[str, list[Mobile]] = Field(default_factory=dict)  # mentioned_mobile_list

    @model_validator(mode="after")
    def _mentions_need_text(self) -> WeComOptions:
        if self.msgtype == "markdown" and (self.mentions or self.mention_all_from):
            raise ValueError("企业微信机器人只有在 text 消息里才能按手机号 @人：请写 msgtype: text")
        return self


class FeishuOptions(BotOptions):
    secret_env: EnvName | None = None  # 签名校验
    msgtype: Literal["post", "text"] = "post"
    # Feishu custom bots @-mention by open_id / user_id, not by mobile.
    mentions: dict[str, list[Annotated[str, StringConstraints(min_length=1)]]] = Field(default_factory=dict)


OPTIONS: dict[str, type[ChannelOptions]] = {
    "console": ConsoleOptions,
    "email": EmailOptions,
    "webhook": WebhookOptions,
    "dingtalk": DingTalkOptions,
    "wecom": WeComOptions,
    "feishu": FeishuOptions,
}


def check_channel_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options unchanged when they fit the channel type; ValueError naming the option otherwise."""
    model = OPTIONS.get(kind)
    if model is None:
        return options  # the type itself is wrong; that error is reported on `type`
    try:
        model.model_validate(options)
    except ValidationError as exc:
        # A mistyped option also makes the real one "missing"; the unknown one is the one to point at.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        where = ".".join(str(part) for part in error["loc"] if part != "[key]")
        message = explain(error)
        raise ValueError(f"{where}: {message}" if where else message) from None
    return options
