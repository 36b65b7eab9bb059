"""Every way a fetch can fail ends the source's crawl as `unreachable`, named in Chinese with the host, in
every spider, judged in one place (spiders.health.SourceHealthMiddleware and pipeline.health.assess); some
pages failing while others load is `partial`, never `ok`.

Each case is a real `scrapy crawl` process against servers on 127.0.0.1 that misbehave as sites and
networks do: a port that refuses, a server that resets, one that never answers, plain HTTP where TLS was
expected, a proxy that refuses, a 503 that outlasts the retries, and a name that does not resolve. Every
request goes to 127.0.0.1 through the replay middleware (`YUQING_REPLAY_URL`), so no test sends traffic off
this machine, whatever host a spider builds its URLs on.

The name that does not resolve is `-unresolvable.invalid`: `.invalid` is reserved never to resolve
(RFC 6761), and a label that starts with a hyphen is not a valid host name, so the C library refuses it
before asking any DNS server (checked with strace: no packet is sent), while Scrapy still hands it to the
resolver and gets its ordinary DNS failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from alerts.outbox import Outbox
from config.env import PROJECT_ROOT
from config.loader import DEFAULT_DIR
from pipeline.health import REASONS, SPIDER_LABELS, assess
from tests.services import free_port

PATROL_AT = "2026-11-23T09:00:00+08:00"
UNRESOLVABLE = "-unresolvable.invalid:8080"
PASSWORD = "s3cret-Pw"

SOURCES = """\
sources:
  - name: sina_refused
    spider: sina_news
    start_urls: ["https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"]
  - name: weibo_reset
    spider: weibo_search
    start_urls: [https://m.weibo.cn]
    download_delay: 0.5
    options: {keywords: [濮阳, 华龙区, 濮阳县, 清丰, 南乐, 范县, 台前]}
  - name: tieba_timeout
    spider: tieba
    start_urls: [https://tieba.baidu.com]
    download_delay: 0.5
    concurrency: 1  # one request at a time: a timeout's second failure leaves at most one more under way
    options: {forums: [濮阳吧, 华龙区吧, 濮阳县吧, 清丰吧, 南乐吧, 范县吧, 台前吧]}
  - name: county_tls
    spider: generic
    start_urls: [https://www.qingfeng.gov.cn/zwdt/index.html]
    options: &trs
      container: ul.list
      items: ul.list > li
      fields: {url: "a::attr(href)", title: "a::attr(title)", date: "span::text"}
      date_formats: ["%Y-%m-%d"]
      article: {body: "#zoom"}
  - name: people_proxy
    spider: people_news
    proxy_env: YUQING_TEST_PROXY
    start_urls: [http://news.people.com.cn/210801/211150/index.js]
  - name: weixin_503
    spider: weixin_sogou
    start_urls: [https://weixin.sogou.com]
    options: {queries: [濮阳]}
  - name: timeline_dns
    spider: weibo_timeline
    start_urls: [https://m.weibo.cn]
    options: {accounts: [{uid: "7712300001", name: 濮阳发布}]}
  - name: county_partial
    spider: generic
    start_urls: [http://127.0.0.1:{site}/zwdt/index.html]
    options: *trs
"""


# Servers that misbehave ---------------------------------------------------------------------------------


class _Listener:
    """A TCP port on 127.0.0.1 whose connections are handed to `handle` in a thread each."""

    def __init__(self, handle) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.open: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


def _reset(conn: socket.socket) -> None:
    """Read the request, then abort the connection: linger 0 makes close() send a TCP reset."""
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _silent(conn: socket.socket) -> None:
    """Accept and never answer (the socket stays open until the test ends)."""


class _Http(ThreadingHTTPServer):
    """Answers every GET with `answer(path) -> (status, body)`; counts what was asked."""

    daemon_threads = True

    def __init__(self, answer) -> None:
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                status, body = answer(self.path)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


LIST = """<html><head><title>政务动态</title></head><body><ul class="list">
<li><a href="/zwdt/t1.html" title="清丰县召开安全生产工作会议">清丰县召开安全生产工作会议</a><span>2026-11-22</span></li>
<li><a href="/zwdt/t2.html" title="清丰县开展冬季供暖检查">清丰县开展冬季供暖检查</a><span>2026-11-22</span></li>
</ul></body></html>"""
ARTICLE = (
    "<html><body><div id='zoom'><p>"
    + "清丰县召开会议，部署冬季安全生产工作。" * 10
    + "</p></div></body></html>"
)


def _site(path: str) -> tuple[int, str]:
    """A county site whose list and first article load, while the second article's server fails."""
    if path.endswith("/t2.html"):
        return 503, "Service Unavailable"
    return 200, ARTICLE if path.endswith("/t1.html") else LIST


# Crawls -------------------------------------------------------------------------------------------------


def _record(data: Path, source: str) -> dict[str, Any]:
    found = list((data / "runs").glob(f"{source}-*.json"))
    return json.loads(found[0].read_text(encoding="utf-8")) if len(found) == 1 else {}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("fetch")
    refused = free_port()  # bound once, then released: nothing listens there
    reset = _Listener(_reset)
    silent = _Listener(_silent)
    plain = _Http(lambda path: (200, "plain HTTP"))
    failing = _Http(lambda path: (503, "Service Unavailable"))
    site = _Http(_site)
    # (source, spider, replay server standing in for the site, extra settings, extra environment).
    # No politeness delay, except for the two sources that show the crawl giving up: with none, Scrapy
    # hands every request to the network at once and there would be nothing left to give up on.
    fast = ["DOWNLOAD_DELAY=0"]
    cases = {
        "sina_refused": ("sina_news", f"http://127.0.0.1:{refused}", fast, {}),
        "weibo_reset": ("weibo_search", f"http://127.0.0.1:{reset.port}", [], {}),
        "tieba_timeout": ("tieba", f"http://127.0.0.1:{silent.port}", ["DOWNLOAD_TIMEOUT=1"], {}),
        "county_tls": ("generic", f"https://127.0.0.1:{plain.port}", fast, {}),
        "people_proxy": (
            "people_news",
            f"http://127.0.0.1:{plain.port}",
            fast,
            {"YUQING_TEST_PROXY": f"http://duty:{PASSWORD}@127.0.0.1:{refused}"},
        ),
        "weixin_503": ("weixin_sogou", f"http://127.0.0.1:{failing.port}", fast, {}),
        "timeline_dns": ("weibo_timeline", f"http://{UNRESOLVABLE}", fast, {}),
        "county_partial": ("generic", None, fast, {}),
    }
    config = root / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "sources.yaml").write_text(SOURCES.replace("{site}", str(site.port)), encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    base.update(YUQING_DATA_DIR=str(root / "data"), YUQING_CONFIG_DIR=str(config), YUQING_NOW=PATROL_AT)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        base.pop(proxy, None)

    def crawl(source: str) -> subprocess.CompletedProcess[str]:
        spider, replay, settings, extra = cases[source]
        env = {**base, **extra}
        if replay is not None:
            env["YUQING_REPLAY_URL"] = replay
        command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"source={source}"]
        for setting in ["ITEM_PIPELINES={}", "AUTOTHROTTLE_ENABLED=False", *settings]:
            command += ["-s", setting]
        command += ["-s", "YUQING_RETRY_BACKOFF_BASE=0.05"]
        return subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
        )

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(zip(cases, pool.map(crawl, cases), strict=True))
        outbox = Outbox(root / "data" / "alerts.sqlite3")
        alerts = outbox.alerts()
        outbox.close()
        yield {
            "results": results,
            "records": {source: _record(root / "data", source) for source in cases},
            "alerts": alerts,
            "ports": {"refused": refused, "reset": reset.port, "silent": silent.port, "plain": plain.port},
            "failing": failing,
            "site": site,
        }
    finally:
        for server in (reset, silent, plain, failing, site):
            server.close()


# source -> (kind as people read it, the host that failed)
UNREACHABLE = {
    "sina_refused": ("连接被拒绝", "127.0.0.1:{refused}"),
    "weibo_reset": ("连接被重置", "127.0.0.1:{reset}"),
    "tieba_timeout": ("连接超时", "127.0.0.1:{silent}"),
    "county_tls": ("TLS 握手失败", "127.0.0.1:{plain}"),
    "people_proxy": ("代理连接失败", "127.0.0.1:{refused}"),
    "weixin_503": ("服务器错误 HTTP 503", "127.0.0.1:{failing}"),
    "timeline_dns": ("域名解析失败", UNRESOLVABLE),
}


@pytest.mark.parametrize("source", list(UNREACHABLE))
def test_a_fetch_that_fails_in_any_way_ends_the_source_unreachable_named_and_alerted(crawled, source):
    result = crawled["results"][source]
    assert result.returncode == 0, result.stderr[-3000:]
    record = crawled["records"][source]
    health = record["health"]
    kind, host = UNREACHABLE[source]
    host = host.format(**crawled["ports"], failing=crawled["failing"].port)
    assert health["state"] == "unreachable", health
    assert health["fetched"] == 0
    assert health["fetch_failures"] >= 1
    assert f"首次：{kind} {host}（" in health["detail"]
    assert "0 次成功" in health["detail"]
    # The proxy's URL holds a password: the failure names its host only.
    assert PASSWORD not in result.stdout + result.stderr + json.dumps(record, ensure_ascii=False)
    [alert] = [a for a in crawled["alerts"] if a.event_id == f"health:{source}"]
    label = SPIDER_LABELS.get(record["spider"])  # the generic source has no label of its own here
    shown = f"{label}（{source}）" if label else source
    assert alert.subject() == f"【信息源异常】{shown}：{REASONS['unreachable']}"
    assert f"{kind} {host}" in alert.render()


def test_what_waiting_cannot_mend_is_not_retried_a_refusal_once_and_a_server_error_fully(crawled):
    stats = {source: record["stats"] for source, record in crawled["records"].items()}
    assert "retry/count" not in stats["timeline_dns"]
    assert "retry/count" not in stats["county_tls"]
    assert "retry/count" not in stats["tieba_timeout"]
    # One short retry for a refused connection, to the site and to a proxy alike.
    assert (
        stats["sina_refused"]["retry/count"] == stats["sina_refused"]["yuqing/fetch/sina_refused/failed"] == 1
    )
    assert stats["people_proxy"]["retry/count"] == stats["people_proxy"]["yuqing/fetch/people_proxy/failed"]
    # A server error may pass: it gets every retry (RETRY_TIMES 3, four tries) before it is judged.
    hits = crawled["failing"].hits
    assert hits
    assert all(count == 4 for count in hits.values())


@pytest.mark.parametrize("source", ["weibo_reset", "tieba_timeout"])
def test_a_site_that_is_unreachable_is_given_up_on_not_asked_for_every_page(crawled, source):
    # Seven keywords or forums, but once the first fetches failed with nothing answered the crawl stops:
    # the two failures that decide it, and at most one more already under way.
    record = crawled["records"][source]
    assert record["finish_reason"] == "unreachable"
    assert 2 <= record["stats"][f"yuqing/fetch/{source}/failed"] <= 3


def test_some_pages_failing_is_partial_never_ok(crawled):
    result = crawled["results"]["county_partial"]
    assert result.returncode == 0, result.stderr[-3000:]
    health = crawled["records"]["county_partial"]["health"]
    port = crawled["site"].port
    assert health["state"] == "partial"
    assert health["items"] == 1
    assert health["detail"] == (
        f"1 次请求失败、2 次成功（服务器错误 1）；首次：服务器错误 HTTP 503 127.0.0.1:{port}"
        f"（http://127.0.0.1:{port}/zwdt/t2.html）"
    )
    # Once is no alert: one slow page must not wake duty staff; the state says it all the same.
    assert not [a for a in crawled["alerts"] if a.event_id == "health:county_partial"]


def test_pages_never_fetched_do_not_make_an_empty_list_or_a_changed_layout():
    stats = {"yuqing/fetch/s/failed": 2, "yuqing/fetch/s/failed/dns": 2, "yuqing/source/s/empty": 1}
    assert assess("s", "empty", stats).state == "unreachable"
    assert assess("s", "finished", stats).state == "unreachable"
    # A login wall, captcha or refusal says more than the failures beside it.
    assert assess("s", "captcha", stats).state == "captcha"
    answered = {**stats, "yuqing/fetch/s/ok": 5}
    assert assess("s", "finished", {k: v for k, v in answered.items() if "empty" not in k}).state == "partial"
    assert assess("s", "empty", answered).state == "empty"
