"""A local HTTP server that answers crawl requests from recorded responses, for tests and the offline demo.

Each recordings directory holds the recorded bodies and an `index.json` naming, for every original URL, the
file, status and headers the site sent, and the patrol round from which the site answered that way. POST
answers (JSON APIs) are recorded with the request body they answer. Point a crawl at it with
`YUQING_REPLAY_URL` (see `spiders.middlewares.ReplayMiddleware`).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

REPLAY_PATH = "/replay"

# Headers that describe the original transfer, not the body we serve.
_TRANSFER_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})


def replay_request_url(base_url: str, original_url: str) -> str:
    """The URL on the replay server that answers for `original_url`; the one place this format is written."""
    return f"{base_url.rstrip('/')}{REPLAY_PATH}?url={quote(original_url, safe='')}"


def url_key(url: str) -> str:
    """Compare URLs as the site would: host case and query order do not matter, the fragment is dropped."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def body_key(body: bytes | str | None) -> str:
    """Compare POST bodies as the site would: JSON and form fields in any order match."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    try:
        return json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        pass
    if "=" in text and not any(c.isspace() for c in text):
        return urlencode(sorted(parse_qsl(text, keep_blank_values=True)))
    return text


def request_key(url: str, method: str = "GET", body: bytes | str | None = None) -> str:
    """One key per request the site tells apart: GETs by URL, POSTs by URL and body."""
    if method.upper() in ("GET", "HEAD"):
        return url_key(url)
    return f"{method.upper()} {url_key(url)} {body_key(body)}"


class ReplayIndexError(ValueError):
    """An `index.json` that cannot be served: names the file, the entry and what is wrong."""

    def __init__(self, index: Path, entry: str, reason: str) -> None:
        super().__init__(f"{index}: {entry}: {reason}")
        self.index = index
        self.entry = entry
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Recording:
    url: str
    round: int
    file: Path
    status: int
    headers: tuple[tuple[str, str], ...]
    method: str = "GET"
    body: str | None = None  # the request body a POST answer was recorded for

    @property
    def key(self) -> str:
        return request_key(self.url, self.method, self.body)


def load_index(directory: Path) -> list[Recording]:
    """Read `directory/index.json`: `{"responses": [{"url", "file", "status", "headers", "round"?}, ...]}`.

    A POST answer also has `"method": "POST"` and `"body"`: the request body, as text or as the JSON value.
    """
    index = directory / "index.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReplayIndexError(index, "-", "file not found") from None
    except ValueError as exc:
        raise ReplayIndexError(index, "-", f"not JSON: {exc}") from None
    entries = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ReplayIndexError(index, "responses", "expected a list of recorded responses")
    recordings = []
    for position, entry in enumerate(entries):
        where = f"responses[{position}]"
        if not isinstance(entry, dict):
            raise ReplayIndexError(index, where, "expected a mapping")
        url, name = entry.get("url"), entry.get("file")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ReplayIndexError(index, f"{where}.url", f"not an http(s) URL: {url!r}")
        if not isinstance(name, str) or not (directory / name).is_file():
            raise ReplayIndexError(index, f"{where}.file", f"no such recording: {name!r}")
        status, round_ = entry.get("status", 200), entry.get("round", 1)
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ReplayIndexError(index, f"{where}.status", f"not an HTTP status: {status!r}")
        if not isinstance(round_, int) or round_ < 1:
            raise ReplayIndexError(index, f"{where}.round", f"not a round number >= 1: {round_!r}")
        headers = entry.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ReplayIndexError(index, f"{where}.headers", "expected a mapping of header name to text")
        method, body = entry.get("method", "GET"), entry.get("body")
        if method not in ("GET", "POST"):
            raise ReplayIndexError(index, f"{where}.method", f"expected GET or POST, got {method!r}")
        if method == "POST" and body is None:
            raise ReplayIndexError(index, f"{where}.body", "a POST answer needs the request body it answers")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body, ensure_ascii=False)
        recordings.append(
            Recording(
                url=url,
                round=round_,
                file=directory / name,
                status=status,
                headers=tuple((str(k), v) for k, v in headers.items()),
                method=method,
                body=body,
            )
        )
    return recordings


class ReplayServer:
    """Serves recorded responses on 127.0.0.1 at a free port.

    `round` is the patrol the site is replayed as (default 1): a URL answers with its recording of the highest
    round not above it, so a URL recorded once serves every round and one recorded for round 2 changes from
    round 2 on. A URL with no such recording gets a 404 whose body names it.

        with ReplayServer(Path("tests/fixtures/sina")) as server:
            os.environ["YUQING_REPLAY_URL"] = server.base_url
            ...
            server.round = 2
    """

    def __init__(self, *recordings_dirs: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        if not recordings_dirs:
            raise ValueError("ReplayServer needs at least one recordings directory")
        self.host = host
        self.port = port
        self.round = 1
        self._longest_hold = 0.0
        self.served: list[tuple[int, int, str]] = []  # (round, status, original URL), in order of arrival
        self._table: dict[str, list[Recording]] = {}
        self._lock = threading.Lock()
        self._held: dict[str, threading.Event] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        for directory in recordings_dirs:
            self.add(Path(directory))

    def add(self, directory: Path) -> None:
        """Serve one more recordings directory; the same URL and round may not be recorded twice."""
        for recording in load_index(directory):
            versions = self._table.setdefault(recording.key, [])
            clash = next((r for r in versions if r.round == recording.round), None)
            if clash is not None:
                raise ReplayIndexError(
                    directory / "index.json",
                    recording.url,
                    f"round {recording.round} is already recorded in {clash.file}",
                )
            versions.append(recording)
            versions.sort(key=lambda r: r.round)

    def hold(self, host: str, *, longest: float = 120.0) -> threading.Event:
        """A slow site: requests for `host` get no answer until the event is set (or `longest` seconds)."""
        gate = threading.Event()
        with self._lock:
            self._held[host.lower()] = gate
        self._longest_hold = longest
        return gate

    def lookup(
        self, url: str, round_: int | None = None, method: str = "GET", body: bytes | str | None = None
    ) -> Recording | None:
        wanted = self.round if round_ is None else round_
        versions = [r for r in self._table.get(request_key(url, method, body), ()) if r.round <= wanted]
        return versions[-1] if versions else None

    @property
    def urls(self) -> list[str]:
        return sorted({r.url for versions in self._table.values() for r in versions})

    @property
    def base_url(self) -> str:
        """Where the server listens (or listened, after `stop`, so reports can still name it)."""
        if self._base_url is None:
            raise RuntimeError("ReplayServer has not been started")
        return self._base_url

    def url_for(self, original_url: str) -> str:
        return replay_request_url(self.base_url, original_url)

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        self._httpd = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self._base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="replay-server", daemon=True
        )
        self._thread.start()
        logger.info("replay server on %s serving %d URLs", self.base_url, len(self._table))
        return self.base_url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _answer(
        self, path: str, method: str = "GET", request_body: bytes | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes, str]:
        """Status, headers, body and a note for the log line, for one request."""
        parts = urlsplit(path)
        originals = parse_qs(parts.query).get("url") if parts.path == REPLAY_PATH else None
        if not originals:
            body = f"replay: expected {REPLAY_PATH}?url=<quoted original URL>, got {path}\n"
            return 400, [("Content-Type", "text/plain; charset=utf-8")], body.encode(), "bad request"
        original = originals[0]
        with self._lock:
            gate = self._held.get((urlsplit(original).hostname or "").lower())
        if gate is not None:
            gate.wait(self._longest_hold)
        with self._lock:
            current = self.round
            recording = self.lookup(original, current, method, request_body)
        if recording is None:
            asked = (
                f" with body {request_body[:200]!r}" if method == "POST" and request_body is not None else ""
            )
            body = f"replay: no recording for {method} {original}{asked} (round {current})\n"
            with self._lock:
                self.served.append((current, 404, original))
            return 404, [("Content-Type", "text/plain; charset=utf-8")], body.encode(), original
        with self._lock:
            self.served.append((current, recording.status, original))
        headers = [(k, v) for k, v in recording.headers if k.lower() not in _TRANSFER_HEADERS]
        return recording.status, headers, recording.file.read_bytes(), f"{original} -> {recording.file.name}"


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._reply(send_body=True)

        def do_HEAD(self) -> None:
            self._reply(send_body=False)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._reply(send_body=True, method="POST", request_body=self.rfile.read(length))

        def _reply(self, *, send_body: bool, method: str = "GET", request_body: bytes | None = None) -> None:
            status, headers, body, note = server._answer(self.path, method, request_body)
            logger.info("replay round=%d %d %s", server.round, status, note)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # One line per request is written by _reply; the stdlib's stderr line would repeat it.
            pass

    return Handler
