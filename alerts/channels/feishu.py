"""Feishu (飞书) custom group bot: `POST https://open.feishu.cn/open-apis/bot/v2/hook/<id>`.

Signed (签名校验) in the body: `timestamp` in seconds and `sign` = base64 HmacSHA256 keyed with
"<timestamp>\\n<secret>" over an empty message. `{"code":0,...}` is the only success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar

import requests

from alerts.channels.base import DeliveryResult, Message, truncate_utf8
from alerts.channels.http import BotChannel
from config.channels import FeishuOptions

# Custom bots accept request bodies up to 20 KB.
BODY_MAX_BYTES = 18000


def sign(secret: str, timestamp: str) -> str:
    """Feishu's signature: the timestamp and secret are the HMAC key, the message is empty."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FeishuChannel(BotChannel):
    type = "feishu"
    platform = "飞书"
    options_model = FeishuOptions
    # 自定义机器人：100 次/分钟，5 次/秒。
    default_limits: ClassVar[tuple[tuple[int, float], ...]] = ((100, 60), (5, 1))
    code_field = "code"
    message_field = "msg"
    throttle_codes: ClassVar[dict[int, float]] = {9499: 60}
    # 19021: signature or timestamp refused; 19022: IP not allowed; 19024: keyword missing;
    # 19001: the hook id is invalid.
    permanent_codes = frozenset({19001, 19021, 19022, 19024})

    options: FeishuOptions

    def __init__(self, name: str, options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self._secret = self.secret(self.options.secret_env) if self.options.secret_env else None

    def payload(self, message: Message) -> dict[str, Any]:
        ids, everyone = self.mentioned(message)
        if everyone:
            ids = [*ids, "all"]
        body = truncate_utf8(message.body, BODY_MAX_BYTES)
        if self.options.msgtype == "text":
            tags = "".join(f'<at user_id="{uid}">{"所有人" if uid == "all" else ""}</at>' for uid in ids)
            content: dict[str, Any] = {"text": f"{body}\n{tags}" if tags else body}
            payload: dict[str, Any] = {"msg_type": "text", "content": content}
        else:
            lines = body.splitlines()
            if lines and lines[0].strip() == message.subject.strip():
                lines = lines[1:]  # the title says it already
            rows: list[list[dict[str, str]]] = [
                [{"tag": "text", "text": line}] for line in lines if line.strip()
            ]
            if ids:
                rows.append([{"tag": "at", "user_id": uid} for uid in ids])
            post = {"zh_cn": {"title": message.subject, "content": rows}}
            payload = {"msg_type": "post", "content": {"post": post}}
        if self._secret is not None:
            timestamp = str(int(self._timer()))
            payload = {
                "timestamp": timestamp,
                "sign": sign(self._secret.get_secret_value(), timestamp),
                **payload,
            }
        return payload

    def send(self, message: Message) -> DeliveryResult:
        try:
            reply = self.post(self.url, self.payload(message))
        except requests.RequestException as exc:
            return self.unreachable(exc)
        return self.read_reply(reply)
