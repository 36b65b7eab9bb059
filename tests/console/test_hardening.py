"""The console where people and scripts go wrong: a cookie or token that is not ASCII, a logout after the
session has already ended, a part of a page asked for without a session, a key with a slash, a method the
address does not take, a request a person did not make, a damaged key file, a port already taken, a LAN
address without HTTPS, and HTTPS itself. Each gets a plain answer in Chinese, never a crash."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from tests.console.conftest import ALERTS, PASSWORD, Console
from tests.helpers import PROJECT_ROOT, office_env, yuqing

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def signed_in(url: str, name: str, *, verify: bool = True) -> requests.Session:
    """A session of `name` through the login form, as a script would sign in."""
    http = requests.Session()
    form = http.get(f"{url}/login", timeout=10, verify=verify)
    token = TOKEN.search(form.text)
    assert token, form.text
    done = http.post(
        f"{url}/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token.group(1), "next": "/desk"},
        allow_redirects=False,
        timeout=10,
        verify=verify,
    )
    assert done.status_code == 303, done.text
    return http


def test_text_that_is_not_ascii_in_a_cookie_or_a_token_is_refused_not_a_crash(console: Console) -> None:
    foreign = requests.get(
        f"{console.url}/desk",
        headers={"Cookie": "yuqing_session=值班.签名".encode()},
        allow_redirects=False,
        timeout=10,
    )
    assert foreign.status_code == 303
    assert foreign.headers["location"].startswith("/login")
    http = signed_in(console.url, "李娜")
    refused = http.post(
        f"{console.url}/logout", data={"csrf_token": "令牌"}, allow_redirects=False, timeout=10
    )
    assert refused.status_code == 403
    assert "防伪令牌" in refused.text


def test_logging_out_of_a_session_that_has_ended_goes_to_the_login_page(console: Console) -> None:
    http = signed_in(console.url, "李娜")
    kept = dict(http.cookies)
    token = TOKEN.search(http.get(f"{console.url}/desk", timeout=10).text)
    assert token
    first = http.post(
        f"{console.url}/logout", data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=10
    )
    assert first.status_code == 303
    # The same page's button pressed again (another tab, say): the session is over, so it just says so.
    again = requests.post(
        f"{console.url}/logout",
        cookies=kept,
        data={"csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert again.status_code == 303
    assert again.headers["location"] == "/login"


def test_a_part_of_a_page_asked_for_without_a_session_sends_the_whole_page_to_login(console: Console) -> None:
    answer = requests.get(
        f"{console.url}/desk", headers={"HX-Request": "true"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=/desk"
    assert answer.text == ""


def test_refreshes_a_person_did_not_ask_for_do_not_keep_the_session_alive(console: Console) -> None:
    http = signed_in(console.url, "李娜")
    asked = http.get(f"{console.url}/desk", allow_redirects=False, timeout=10)
    assert asked.status_code == 200
    assert "yuqing_session=" in asked.headers.get("set-cookie", "")  # renewed: 30 more minutes
    background = http.get(
        f"{console.url}/desk", headers={"X-Yuqing-Background": "1"}, allow_redirects=False, timeout=10
    )
    assert background.status_code == 200
    assert "yuqing_session=" not in background.headers.get("set-cookie", "")


def test_an_alert_whose_key_holds_a_slash_has_its_page(console: Console) -> None:
    alert = replace(
        ALERTS[0],
        key="event:news:https://www.pyxw.cn/2026/12/1.html@一般性事项",
        event_id="event:news:https://www.pyxw.cn/2026/12/1.html",
        title="华龙区新闻网报道路段施工",
    )
    outbox = console.outbox()
    try:
        assert outbox.enqueue(alert)
    finally:
        outbox.close()
    http = signed_in(console.url, "李娜")
    desk = http.get(f"{console.url}/desk", timeout=10)
    link = re.search(r'href="(/alerts/[^"]*pyxw[^"]*)"', desk.text)
    assert link, "the desk links the alert"
    found = http.get(f"{console.url}{link.group(1)}", timeout=10)
    assert found.status_code == 200
    assert "华龙区新闻网报道路段施工" in found.text


def test_errors_of_the_framework_are_said_in_chinese(console: Console) -> None:
    http = signed_in(console.url, "李娜")
    wrong_method = http.get(f"{console.url}/logout", timeout=10)
    assert wrong_method.status_code == 405
    assert "这个地址不接受这种请求" in wrong_method.text
    assert "Method Not Allowed" not in wrong_method.text
    long_name = requests.Session()
    token = TOKEN.search(long_name.get(f"{console.url}/login", timeout=10).text)
    assert token
    refused = long_name.post(
        f"{console.url}/login",
        data={"username": "某" * 5000, "password": "x", "csrf_token": token.group(1)},
        timeout=10,
    )
    assert refused.status_code == 401
    assert "用户名或密码错误" in refused.text


# -- starting the console ------------------------------------------------------------------------------


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "commands.cli", "console", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(url: str, server: subprocess.Popen[str], **options: object) -> requests.Response:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        try:
            return requests.get(url, timeout=2, **options)  # type: ignore[arg-type]
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the console did not answer within 60 s"
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_damaged_key_file_is_named_and_the_console_does_not_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / "console.key").write_text("abcd\n")
    done = yuqing("console", "--port", str(free_port()), env=office_env(data_dir), timeout=60)
    assert done.returncode == 1
    assert "console.key 中没有可用的密钥" in done.stderr
    assert "删除该文件" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_already_taken_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = yuqing("console", "--host", "0.0.0.0", "--port", str(port), env=office_env(tmp_path / "var"))
    assert done.returncode == 1
    assert f"无法在 0.0.0.0:{port} 监听：端口已被占用" in done.stderr
    # On a LAN address without HTTPS it warns before anything else.
    assert "以明文 HTTP 提供服务" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # a self-signed certificate
def test_with_a_certificate_it_serves_https_and_its_cookies_go_over_https_only(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    env = office_env(tmp_path / "var")
    added = yuqing(
        "user", "add", "张伟", "--role", "admin", "--password-stdin", env=env, input=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    port = free_port()
    server = start(env, "--port", str(port), "--cert", str(cert), "--key", str(key))
    try:
        url = f"https://127.0.0.1:{port}"
        first = wait_for(f"{url}/login", server, verify=False)
        assert first.status_code == 200
        assert "; secure" in first.headers["set-cookie"].lower()
        http = signed_in(url, "张伟", verify=False)
        assert http.get(f"{url}/desk", timeout=10, verify=False).status_code == 200
        assert all(cookie.secure for cookie in http.cookies)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/login", timeout=5)  # no plain HTTP beside it
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert "https://127.0.0.1" in (server.stderr.read() if server.stderr else "")


def test_a_search_by_event_with_a_damaged_event_file_names_it(console: Console) -> None:
    """The event filter reads the event file for the names an event absorbed: a damaged file is named on
    the page, with what to do, instead of failing the request."""
    events = console.data_dir / "events.sqlite3"
    kept = events.read_bytes() if events.exists() else None
    events.write_bytes(b"not a database " * 20)
    try:
        http = signed_in(console.url, "李娜")
        answer = http.get(f"{console.url}/search", params={"q": "化工厂", "event": "event:sina:1"})
        assert answer.status_code == 200
        assert "无法按事件检索" in answer.text
        assert "events.sqlite3 已损坏" in answer.text
    finally:
        if kept is None:
            events.unlink()
        else:
            events.write_bytes(kept)
