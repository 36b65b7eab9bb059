"""WeCom (企业微信) group bot: `POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.

No signing: the key in the URL is the secret. @-mentions by mobile (`mentioned_mobile_list`, "@all" for
everyone) work in text messages; `{"errcode":0,"errmsg":"ok"}` is the only success.
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from alerts.channels.base import DeliveryResult, Message, truncate_utf8
from alerts.channels.http import BotChannel
from config.channels import WeComOptions

# The platform refuses longer content: 2048 bytes of text, 4096 of markdown.
TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096


class WeComChannel(BotChannel):
    type = "wecom"
    platform = "企业微信"
    options_model = WeComOptions
    # 每个机器人发送的消息不能超过20条/分钟。
    default_limits: ClassVar[tuple[tuple[int, float], ...]] = ((20, 60),)
    code_field = "errcode"
    message_field = "errmsg"
    throttle_codes: ClassVar[dict[int, float]] = {45009: 60}
    # 93000: the webhook key is invalid or the bot was removed; 40008: message type not accepted.
    permanent_codes = frozenset({93000, 40008})

    options: WeComOptions

    def payload(self, message: Message) -> dict[str, Any]:
        if self.options.msgtype == "markdown":
            body = message.body.splitlines()
            if body and body[0].strip() == message.subject.strip():
                body = body[1:]
            content = "\n".join([f"**{message.subject}**", *(f"> {line}" for line in body if line.strip())])
            return {
                "msgtype": "markdown",
                "markdown": {"content": truncate_utf8(content, MARKDOWN_MAX_BYTES)},
            }
        mobiles, everyone = self.mentioned(message)
        text: dict[str, Any] = {"content": truncate_utf8(message.body, TEXT_MAX_BYTES)}
        if mobiles or everyone:
            text["mentioned_mobile_list"] = [*mobiles, *(["@all"] if everyone else [])]
        return {"msgtype": "text", "text": text}

    def send(self, message: Message) -> DeliveryResult:
        try:
            reply = self.post(self.url, self.payload(message))
        except requests.RequestException as exc:
            return self.unreachable(exc)
        return self.read_reply(reply)
