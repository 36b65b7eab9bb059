"""A real HTTP server on 127.0.0.1 that answers like the DingTalk, WeCom and Feishu group bots and a plain
JSON webhook: it checks tokens and signatures, enforces each platform's rate limit the way the platform
does, and answers with the recorded bodies in tests/fixtures/bots. Every request is kept for inspection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

BOTS = Path(__file__).resolve().parents[1] / "fixtures" / "bots"
CONTENT_TYPES = {
    "dingtalk": "application/json;charset=utf-8",
    "wecom": "application/json; charset=UTF-8",
    "feishu": "application/json; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Received:
    bot: str  # dingtalk | wecom | feishu | webhook
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    answer: str  # the fixture answered with (e.g. "dingtalk_ok"), or "HTTP <status>" for the webhook
    at: float

    @property
    def ok(self) -> bool:
        return self.answer.endswith("_ok") or self.answer == "HTTP 200"


class BotReceiver:
    def __init__(
        self,
        *,
        dingtalk_token: str = "dt-0123456789abcdef",
        dingtalk_secret: str | None = None,
        wecom_key: str = "5f1c0d9a-7e2b-4c61-9a0e-3b2f4d6c8e10",
        feishu_hook: str = "2f6e8a1c-4b3d-4e5f-8a9b-0c1d2e3f4a5b",
        feishu_secret: str | None = None,
        clock: Callable[[], float] = time.time,
        delay: float = 0.0,
        echo: bool = False,
    ) -> None:
        self.dingtalk_token = dingtalk_token
        self.dingtalk_secret = dingtalk_secret
        self.wecom_key = wecom_key
        self.feishu_hook = feishu_hook
        self.feishu_secret = feishu_secret
        self.clock = clock
        self.delay = delay
        # Refusals repeat the token or key they were sent, as some platforms' error messages do.
        self.echo = echo
        self.received: list[Received] = []
        self.webhook_statuses: list[int] = []  # answered in turn before falling back to 200
        self._sent: dict[str, list[float]] = {"dingtalk": [], "wecom": [], "feishu": []}
        self._held_until = 0.0  # DingTalk holds a bot back for 10 minutes once it went too fast
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- addresses the channels are given (through their environment variables) ----------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.base_url}/robot/send?access_token={self.dingtalk_token}"

    @property
    def wecom_url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={self.wecom_key}"

    @property
    def feishu_url(self) -> str:
        return f"{self.base_url}/open-apis/bot/v2/hook/{self.feishu_hook}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/hook"

    def of(self, bot: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.bot == bot]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- the platforms' checks ----------------------------------------------------------------------

    def _over(self, bot: str, windows: list[tuple[int, float]], now: float) -> bool:
        sent = self._sent[bot]
        if any(sum(1 for t in sent if t > now - seconds) >= count for count, seconds in windows):
            return True
        sent.append(now)
        return False

    def _dingtalk(self, query: dict[str, str], now: float) -> str:
        if query.get("access_token") != self.dingtalk_token:
            return "dingtalk_token_is_not_exist"
        if self.dingtalk_secret is not None:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit() or abs(int(timestamp) - now * 1000) > 3600_000:
                return "dingtalk_sign_not_match"
            expected = hmac.new(
                self.dingtalk_secret.encode(), f"{timestamp}\n{self.dingtalk_secret}".encode(), hashlib.sha256
            ).digest()
            if sign != base64.b64encode(expected).decode():
                return "dingtalk_sign_not_match"
        if now < self._held_until:
            return "dingtalk_send_too_fast"
        if self._over("dingtalk", [(20, 60)], now):
            self._held_until = now + 600
            return "dingtalk_send_too_fast"
        return "dingtalk_ok"

    def _wecom(self, query: dict[str, str], now: float) -> str:
        if query.get("key") != self.wecom_key:
            return "wecom_invalid_webhook_url"
        if self._over("wecom", [(20, 60)], now):
            return "wecom_api_freq_out_of_limit"
        return "wecom_ok"

    def _feishu(self, hook: str, body: Any, now: float) -> str:
        if hook != self.feishu_hook:
            return "feishu_sign_match_fail"
        if self.feishu_secret is not None:
            timestamp = str(body.get("timestamp", "")) if isinstance(body, dict) else ""
            if not timestamp.isdigit() or abs(int(timestamp) - now) > 3600:
                return "feishu_sign_match_fail"
            key = f"{timestamp}\n{self.feishu_secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if body.get("sign") != expected:
                return "feishu_sign_match_fail"
        if self._over("feishu", [(100, 60), (5, 1)], now):
            return "feishu_too_many_request"
        return "feishu_ok"

    @staticmethod
    def _echoed(bot: str, payload: bytes, path: str, query: dict[str, str]) -> bytes:
        """The recorded refusal with the token it was sent appended to its message, bare."""
        sent = {"dingtalk": query.get("access_token", ""), "wecom": query.get("key", "")}.get(
            bot, path.rsplit("/", 1)[-1]
        )
        data = json.loads(payload)
        field = "errmsg" if "errmsg" in data else "msg"
        data[field] = f"{data[field]} (token {sent})"
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                # Decoded once, as the platform does: a `sign` sent without URL-encoding loses its "+".
                query = {k: values[0] for k, values in parse_qs(parts.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = None
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    now = receiver.clock()
                    if parts.path == "/robot/send":
                        bot, answer = "dingtalk", receiver._dingtalk(query, now)
                    elif parts.path == "/cgi-bin/webhook/send":
                        bot, answer = "wecom", receiver._wecom(query, now)
                    elif parts.path.startswith("/open-apis/bot/v2/hook/"):
                        hook = parts.path.rsplit("/", 1)[1]
                        bot, answer = "feishu", receiver._feishu(hook, body, now)
                    else:
                        bot = "webhook"
                        status = receiver.webhook_statuses.pop(0) if receiver.webhook_statuses else 200
                        answer = f"HTTP {status}"
                    receiver.received.append(
                        Received(
                            bot, query, {k.lower(): v for k, v in self.headers.items()}, body, answer, now
                        )
                    )
                if bot == "webhook":
                    self.send_response(status)
                    payload = b'{"ok": true}' if status < 300 else b'{"error": "unavailable"}'
                    if receiver.echo and status >= 300:
                        sent = self.headers.get("Authorization", "")
                        payload = json.dumps({"error": f"unavailable for {sent}"}).encode()
                    content_type = "application/json"
                else:
                    self.send_response(200)
                    payload = (BOTS / f"{answer}.json").read_bytes()
                    if receiver.echo and not answer.endswith("_ok"):
                        payload = receiver._echoed(bot, payload, parts.path, query)
                    content_type = CONTENT_TYPES[bot]
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
