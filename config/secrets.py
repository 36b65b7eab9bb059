"""Every secret the configuration names, masked wherever it would be shown, stored or logged.

A platform's error may repeat the bare token of a webhook, a server may quote a password, a library may log a
proxy URL; so the values themselves (and the token-like parts of URLs and cookies) are masked in any text,
not only in the URL forms we expect. One masker per process: fed at start-up from alerts.yaml's `*_env`
options, sources.yaml's `proxy_env` and the fixed variables, and by each channel as it reads its secrets.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from config.env import environment
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import AlertsFile, SourcesFile

MASK = "***"
# Variables that hold secrets whatever the config says.
FIXED_VARIABLES = (
    "YUQING_SMTP_PASSWORD",
    "YUQING_WEIBO_COOKIE",
    "YUQING_REDIS_URL",
    "YUQING_DB_URL",
    "ES_URL",
)
# A whole secret shorter than this is masked all the same; parts of one must look like a token.
_MIN_WHOLE = 4
_MIN_PART = 6


def _looks_like_token(part: str) -> bool:
    # Path words such as "robot", "send", "webhook" or "open-apis" are not secrets; keys and ids are long
    # and usually carry digits.
    return len(part) >= 16 or (len(part) >= 8 and any(c.isdigit() for c in part))


def pieces(value: str) -> set[str]:
    """The strings to mask for one secret value: itself, its encodings, and for a URL its password,
    path, query and token-like parts, for a cookie string each cookie's value."""
    value = value.strip()
    if len(value) < _MIN_WHOLE:
        return set()
    found = {value}
    if "://" in value or value.startswith("/"):
        found = set()  # an address alone (ES_URL, a proxy without login) is no secret: only its secret parts
        parts = urlsplit(value)
        if parts.password:
            found.add(parts.password)
        if parts.username and parts.password:
            found.add(f"{parts.username}:{parts.password}")
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        if len(tail) >= _MIN_PART:
            found.add(tail)
        segments = [s for s in parts.path.split("/") if s]
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if _looks_like_token(segment) or (last and len(segment) >= 8):
                found.add(segment)
        for _key, item in parse_qsl(parts.query):
            if len(item) >= _MIN_PART:
                found.add(item)
        if found:
            found.add(value)
    elif "=" in value:  # a Cookie header: "SUB=...; SUBP=..."
        for cookie in value.split(";"):
            _name, _, item = cookie.strip().partition("=")
            if len(item) >= _MIN_PART:
                found.add(item)
    encoded = set()
    for piece in found:
        encoded |= {quote(piece, safe=""), quote_plus(piece), piece.replace("/", "\\/")}
    return {p for p in found | encoded if len(p) >= _MIN_WHOLE}


class Masker:
    """Replaces every known secret piece in a text with ***; longest first, so a URL goes before its path."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._pieces: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.add(*values)

    def add(self, *values: str) -> None:
        with self._lock:
            before = len(self._pieces)
            for value in values:
                self._pieces |= pieces(value)
            if len(self._pieces) != before:
                ordered = sorted(self._pieces, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def __bool__(self) -> bool:
        return bool(self._pieces)


MASKER = Masker()


def mask(text: str) -> str:
    """`text` with every secret this process knows masked: apply before storing, showing or logging."""
    return MASKER.mask(text)


def remember(*values: str) -> None:
    """Add secrets read at run time (a channel's webhook URL, a cookie) to the process's masker."""
    MASKER.add(*values)


def secret_variables(alerts: AlertsFile | None = None, sources: SourcesFile | None = None) -> list[str]:
    """The names of the variables holding secrets: the fixed ones, every `*_env` option of alerts.yaml's
    channels, and every source's `proxy_env`."""
    names = list(FIXED_VARIABLES)
    for channel in alerts.channels if alerts else []:
        names += [v for k, v in channel.options.items() if k.endswith("_env") and isinstance(v, str)]
    for source in sources.sources if sources else []:
        if source.proxy_env:
            names.append(source.proxy_env)
    return list(dict.fromkeys(names))


def configured_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of every secret variable the office's config names. A config file that does not load
    only loses its own names here: the command itself reports the mistake."""
    alerts: AlertsFile | None = None
    sources: SourcesFile | None = None
    with contextlib.suppress(ConfigError, OSError):
        alerts = load_file(config_dir() / "alerts.yaml", AlertsFile)
    with contextlib.suppress(ConfigError, OSError):
        sources = load_file(config_dir() / "sources.yaml", SourcesFile)
    environ = environment() if environ is None else environ
    names = secret_variables(alerts, sources)
    return [environ[name] for name in names if environ.get(name, "").strip()]


class MaskSecrets(logging.Filter):
    """Masks secrets in a log record: its message, its arguments and the traceback it carries."""

    def __init__(self, masker: Masker = MASKER) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.masker:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call is reported by the handler, as without us
            return True
        cleaned = self.masker.mask(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masker.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.masker.mask(record.stack_info)
        return True


_installed = False


def install_log_masking(values: Iterable[str] | None = None) -> None:
    """Mask secrets in every log line of this process, from now on.

    Fed with `values` (by default every secret the config names). The filter goes on the root logger and
    on its handlers, and is also applied as each record is made: Python runs a logger's filters only for
    records logged on that very logger, so records of `scrapy.*` or `alerts.*` that propagate to the root
    would pass a root-logger filter unseen, and handlers added later (Scrapy's) would lack it."""
    global _installed
    MASKER.add(*(configured_secrets() if values is None else values))
    root = logging.getLogger()
    for target in (root, *root.handlers):
        if not any(isinstance(f, MaskSecrets) for f in target.filters):
            target.addFilter(MaskSecrets())
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()
    masking = MaskSecrets()

    def masked_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(masked_record)
