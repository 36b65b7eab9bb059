"""Console sessions: a signed cookie naming the account, its session id and its expiry (idle and
absolute), and the CSRF token derived from that session. The signing key is a file beside the alerts
database, made on first start, readable by its owner only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "yuqing_session"
PRE_COOKIE = "yuqing_login"  # before login: the login form's own CSRF token is tied to it
IDLE = 30 * 60  # seconds without a request before the session ends
ABSOLUTE = 12 * 3600  # however active, a session ends after a working day


KEY_BYTES = 32  # the signing key's length; a shorter one is refused


class KeyFileError(ValueError):
    """The key file holds no usable key: the message names the file and what to do."""


def load_key(folder: Path) -> bytes:
    """The signing key in `folder`/console.key, created (mode 0600) when missing."""
    path = folder / "console.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES))
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise KeyFileError(
            f"{path} 中没有可用的密钥（应为 {KEY_BYTES} 字节的十六进制）：删除该文件，控制台启动时会生成新的密钥"
        )
    return key


@dataclass(frozen=True, slots=True)
class Session:
    name: str
    sid: str
    issued: float
    expires: float
    stamp: str  # the account's password_changed_at when it logged in

    def renewed(self, now: float) -> Session:
        return Session(self.name, self.sid, self.issued, min(now + IDLE, self.issued + ABSOLUTE), self.stamp)


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def new(self, name: str, stamp: str, now: float | None = None) -> Session:
        now = time.time() if now is None else now
        return Session(name, secrets.token_urlsafe(16), now, now + IDLE, stamp)

    def dump(self, session: Session) -> str:
        body = json.dumps(
            [session.name, session.sid, session.issued, session.expires, session.stamp], ensure_ascii=False
        )
        data = base64.urlsafe_b64encode(body.encode()).decode()
        return f"{data}.{self._mac(data.encode())}"

    def load(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None when it is missing, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        data, _, mac = cookie.rpartition(".")
        if not cookie.isascii() or not hmac.compare_digest(mac, self._mac(data.encode())):
            return None
        try:
            name, sid, issued, expires, stamp = json.loads(base64.urlsafe_b64decode(data.encode()))
        except ValueError:
            return None
        now = time.time() if now is None else now
        if now >= expires or now >= issued + ABSOLUTE:
            return None
        return Session(name, sid, issued, expires, stamp)

    def csrf(self, seed: str) -> str:
        """The CSRF token of a session id (or of the login form's pre-session value)."""
        return self._mac(f"csrf:{seed}".encode())

    def csrf_ok(self, seed: str | None, token: str | None) -> bool:
        # compare_digest refuses text that is not ASCII; such a token is simply wrong.
        if not (seed and token and token.isascii()):
            return False
        return hmac.compare_digest(self.csrf(seed), token)
