"""The replay server: recorded bodies and headers as the site sent them, rounds, 404s that name the URL."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipeline.replay import ReplayIndexError, ReplayServer, replay_request_url, url_key

SINA = Path(__file__).parent / "fixtures" / "sina"
ROLL_1 = "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"
GBK_ARTICLE = "https://henan.sina.com.cn/news/2026-11-22/detail-inhmkizt4405553.shtml"
ROUND_2_ARTICLE = "https://news.sina.com.cn/s/2026-11-23/doc-inhbmlky8435819.shtml"


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture
def server():
    with ReplayServer(SINA) as running:
        yield running


def write_index(directory: Path, responses: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.json").write_text(json.dumps({"responses": responses}), encoding="utf-8")
    return directory


def test_serves_the_recorded_bytes_and_headers(server):
    status, headers, body = fetch(server.url_for(ROLL_1))
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body == (SINA / "roll_lid2510_page1.json").read_bytes()

    status, headers, body = fetch(server.url_for(GBK_ARTICLE))
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    assert body == (SINA / "article_nhmkizt4405553_gbk.html").read_bytes()
    assert "王喆".encode("gbk") in body


def test_unknown_url_is_a_404_naming_it(server):
    missing = "https://news.sina.com.cn/c/2026-11-23/doc-inotrecorded0000000.shtml"
    status, _, body = fetch(server.url_for(missing))
    assert status == 404
    assert missing in body.decode()
    assert server.served[-1] == (1, 404, missing)


def test_a_request_without_url_is_refused(server):
    status, _, body = fetch(f"{server.base_url}/replay")
    assert status == 400
    assert b"url=" in body


def test_rounds_replay_the_site_as_it_changed(server):
    assert fetch(server.url_for(ROUND_2_ARTICLE))[0] == 404  # not published yet at round 1
    first = fetch(server.url_for(ROLL_1))[2]

    server.round = 2
    assert fetch(server.url_for(ROUND_2_ARTICLE))[0] == 200
    second = fetch(server.url_for(ROLL_1))[2]
    assert second == (SINA / "roll_lid2510_page1_round2.json").read_bytes()
    assert second != first
    # Recorded once, served in every later round.
    assert fetch(server.url_for(GBK_ARTICLE))[0] == 200
    assert [(r, s) for r, s, _ in server.served] == [(1, 404), (1, 200), (2, 200), (2, 200), (2, 200)]


def test_urls_match_whatever_the_query_order(server):
    reordered = "https://FEED.mix.sina.com.cn/api/roll/get?page=1&num=50&k=&lid=2510&pageid=153"
    assert url_key(reordered) == url_key(ROLL_1)
    assert fetch(server.url_for(reordered))[0] == 200
    assert url_key(ROLL_1) != url_key(ROLL_1.replace("page=1", "page=2"))


def test_the_request_url_format_round_trips():
    url = replay_request_url("http://127.0.0.1:8000/", ROLL_1)
    assert url.startswith("http://127.0.0.1:8000/replay?url=https%3A%2F%2Ffeed.mix.sina.com.cn")
    assert "&" not in url.split("?", 1)[1]


def test_several_recordings_dirs_are_served_together(tmp_path):
    other = write_index(
        tmp_path / "other",
        [
            {
                "url": "https://example.org/a",
                "file": "a.txt",
                "headers": {"Content-Type": "text/plain; charset=gbk"},
            }
        ],
    )
    (other / "a.txt").write_bytes("甲".encode("gbk"))
    with ReplayServer(SINA, other) as both:
        assert fetch(both.url_for(ROLL_1))[0] == 200
        status, headers, body = fetch(both.url_for("https://example.org/a"))
        assert (status, headers["Content-Type"], body) == (200, "text/plain; charset=gbk", "甲".encode("gbk"))


def test_the_same_url_and_round_twice_is_refused(tmp_path):
    clash = write_index(tmp_path / "clash", [{"url": ROLL_1, "file": "x.json"}])
    (clash / "x.json").write_text("{}")
    with pytest.raises(ReplayIndexError, match="round 1 is already recorded"):
        ReplayServer(SINA, clash)


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"url": "ftp://x", "file": "x.json"}, "responses[0].url"),
        ({"url": "https://x.org/", "file": "missing.json"}, "responses[0].file"),
        ({"url": "https://x.org/", "file": "x.json", "status": 99}, "responses[0].status"),
        ({"url": "https://x.org/", "file": "x.json", "round": 0}, "responses[0].round"),
        ({"url": "https://x.org/", "file": "x.json", "headers": {"A": 1}}, "responses[0].headers"),
    ],
)
def test_a_broken_index_names_the_entry(tmp_path, entry, where):
    directory = write_index(tmp_path / "bad", [entry])
    (directory / "x.json").write_text("{}")
    with pytest.raises(ReplayIndexError) as raised:
        ReplayServer(directory)
    assert raised.value.entry == where
    assert str(directory / "index.json") in str(raised.value)


def test_a_missing_index_is_named(tmp_path):
    with pytest.raises(ReplayIndexError, match="file not found"):
        ReplayServer(tmp_path)


def test_stop_closes_the_port():
    server = ReplayServer(SINA)
    base = server.start()
    assert fetch(replay_request_url(base, ROLL_1))[0] == 200
    server.stop()
    assert server.base_url == base  # still named in reports after the patrol
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(replay_request_url(base, ROLL_1), timeout=5)
