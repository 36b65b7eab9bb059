"""`yuqing extract` reads no more than DOWNLOAD_MAXSIZE, from a file, a device or a server on 127.0.0.1,
and says which size and which limit stopped it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from config import settings
from config.env import PROJECT_ROOT

YUQING = Path(sys.executable).with_name("yuqing")
LIMIT = settings.DOWNLOAD_MAXSIZE
PAGE = b"<html><head><title>t</title></head><body><p>" + "濮阳县一化工厂被指偷排。".encode() * 20


def extract(source: str) -> subprocess.CompletedProcess[str]:
    # Old code read an endless answer until memory ran out; the timeout turns that into a failure here.
    return subprocess.run(
        [str(YUQING), "extract", source],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(stderr: str) -> str:
    return " ".join(stderr.split())


class Pages(BaseHTTPRequestHandler):
    """/endless streams without end (at about 20 MB/s, counting what it sent); /huge announces and sends a
    page one byte over the limit."""

    protocol_version = "HTTP/1.1"
    sent = 0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path == "/huge":
            self.send_header("Content-Length", str(LIMIT + 1))
            self.end_headers()
            body = PAGE + b" " * (LIMIT + 1 - len(PAGE))
            with contextlib.suppress(OSError):
                self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = PAGE + b" " * (64 * 1024 - len(PAGE))
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                type(self).sent += len(chunk)
                time.sleep(0.003)
        except OSError:
            return  # the client hung up

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Pages.sent = 0
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_an_endless_http_answer_is_stopped_at_the_limit(server: str) -> None:
    done = extract(f"{server}/endless")
    assert done.returncode == 1
    assert done.stdout == ""
    message = one_line(done.stderr)
    assert f"{server}/endless: 已收到 " in message
    assert f"仍未结束，超过上限 {LIMIT:,} 字节" in message
    # The client hung up at the limit: what the server managed to send is the limit plus what the sockets
    # buffer, nowhere near what an unbounded read would have taken in.
    assert Pages.sent < 2 * LIMIT


def test_an_http_page_over_the_limit_is_refused_by_its_announced_size(server: str) -> None:
    done = extract(f"{server}/huge")
    assert done.returncode == 1
    assert f"{server}/huge: 服务器声明页面大小 {LIMIT + 1:,} 字节" in one_line(done.stderr)
    assert f"超过上限 {LIMIT:,} 字节" in one_line(done.stderr)


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    with page.open("wb") as handle:
        handle.write(PAGE)
        handle.truncate(5 * LIMIT)  # sparse: the size without the disk space
    done = extract(str(page))
    assert done.returncode == 1
    assert f"{page}: 文件大小 {5 * LIMIT:,} 字节" in one_line(done.stderr)
    assert f"超过上限 {LIMIT:,} 字节" in one_line(done.stderr)


def test_a_device_that_never_ends_is_read_only_to_the_limit() -> None:
    done = extract("/dev/zero")
    assert done.returncode == 1
    assert f"/dev/zero: 已读到 {LIMIT:,} 字节" in one_line(done.stderr)
