"""存证: after an alert, a real Chromium keeps the original page's HTML and a full-page screenshot with the
time and their SHA-256, once per post; a page that cannot be reached is recorded with the reason and tried
again a few times; a copy changed afterwards no longer verifies. The pages come from a server on 127.0.0.1
replaying a recorded portal article."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alerts.models import Alert, alert_key
from alerts.outbox import Outbox
from classifiers.types import Level
from config.env import Env
from pipeline import evidence
from tests.helpers import yuqing

# A post's page as a local site serves it, with nothing fetched from elsewhere (the test reaches no site).
ARTICLE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>濮阳县柳屯镇一化工企业被指夜间偷排废水_大河网</title></head>
<body><h1>濮阳县柳屯镇一化工企业被指夜间偷排废水</h1><p class="info">2026-11-22 23:41 来源：大河报</p>
<div class="article"><p>濮阳县柳屯镇村民反映，一化工企业夜间向河沟偷排废水，河沟泛白沫、气味刺鼻。</p>
<p>记者从濮阳县生态环境分局了解到，执法人员已到现场取样。</p></div></body></html>""".encode()
NOW = datetime.now().astimezone()

pytestmark = pytest.mark.browser


class Replay(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/article.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(ARTICLE)))
            self.end_headers()
            self.wfile.write(ARTICLE)
        else:
            self.send_error(404)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def alert(post_id: str, url: str) -> Alert:
    return Alert(
        key=alert_key(f"event:{post_id}", Level.SENSITIVE),
        post_id=post_id,
        event_id=f"event:{post_id}",
        level=Level.SENSITIVE,
        title="濮阳县一化工企业被指夜间偷排废水",
        url=url,
        source="新浪·大河报",
        summary="……",
        created_at=NOW,
    )


def test_an_alerted_post_is_kept_once_with_its_hashes_and_a_dead_page_is_tried_again(
    data_env: dict[str, str], site: str
) -> None:
    data = Path(data_env["YUQING_DATA_DIR"])
    outbox = Outbox(data / "alerts.sqlite3")
    outbox.enqueue(alert("sina:1", f"{site}/article.html"))
    outbox.enqueue(alert("sina:2", f"{site}/gone.html"))
    outbox.close()

    first = yuqing("evidence", env=data_env)
    assert first.returncode == 1  # one page could not be kept
    assert "已存证 1 条" in first.stdout
    assert "未能存证 sina:2：原网页返回 HTTP 404" in first.stderr

    env = Env(YUQING_DATA_DIR=data)
    kept = evidence.read(env, "sina:1")
    assert kept is not None
    assert kept.final_url == f"{site}/article.html"
    html = (kept.folder / "page.html").read_bytes()
    shot = (kept.folder / "screenshot.png").read_bytes()
    assert "执法人员已到现场取样" in html.decode("utf-8")
    assert shot.startswith(b"\x89PNG\r\n\x1a\n")
    manifest = json.loads((kept.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {
        "page.html": sha256(html).hexdigest(),
        "screenshot.png": sha256(shot).hexdigest(),
    }
    assert evidence.verify(kept)
    assert evidence.read(env, "sina:2") is None
    assert [a["reason"] for a in evidence.attempts(env, "sina:2")] == ["原网页返回 HTTP 404"]

    # Kept once: the next rounds leave the copy alone and try the dead page until they give up on it.
    for _ in range(evidence.ATTEMPTS - 1):
        again = yuqing("evidence", env=data_env)
        assert "已存证 0 条" in again.stdout
    assert len(evidence.attempts(env, "sina:2")) == evidence.ATTEMPTS
    assert (kept.folder / "page.html").read_bytes() == html
    assert "没有待存证的预警帖子" in yuqing("evidence", env=data_env).stdout

    # A copy changed after it was taken no longer verifies.
    (kept.folder / "page.html").write_bytes(html.replace(b"</body>", b"<p>added</p></body>"))
    assert not evidence.verify(kept)


def test_serve_takes_the_copies_in_its_own_round(data_env: dict[str, str], site: str) -> None:
    from commands.serve import Service
    from config.loader import load_config

    data = Path(data_env["YUQING_DATA_DIR"])
    env = Env(YUQING_DATA_DIR=data)
    outbox = Outbox(env.outbox_path)
    outbox.enqueue(alert("sina:1", f"{site}/article.html"))
    outbox.close()
    service = Service(load_config(), env, now=lambda: NOW, patrol=lambda: None)
    assert service.evidence() == 1
    assert evidence.read(env, "sina:1") is not None
    assert service.evidence() == 0  # kept once
