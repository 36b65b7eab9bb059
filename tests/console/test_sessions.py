"""Console sessions and password rules without a browser: a session cookie ends after idle time and after
its absolute limit, a changed byte voids it, and weak passwords are refused with the rule they break."""

from __future__ import annotations

import pytest

from alerts.accounts import AccountError
from console.passwords import check_password
from console.sessions import ABSOLUTE, IDLE, Signer, load_key


def test_a_session_ends_when_idle_and_after_its_absolute_limit(tmp_path) -> None:
    signer = Signer(load_key(tmp_path))
    start = 1_795_395_600.0
    session = signer.new("李娜", "stamp", now=start)
    cookie = signer.dump(session)
    assert signer.load(cookie, now=start + IDLE - 1) == session
    assert signer.load(cookie, now=start + IDLE) is None
    # Kept active, it is renewed, but never past the absolute limit.
    moment, current = start, session
    while True:
        moment += IDLE - 60
        loaded = signer.load(signer.dump(current), now=moment)
        if loaded is None:
            break
        current = loaded.renewed(moment)
    assert start + ABSOLUTE - IDLE < moment <= start + ABSOLUTE + IDLE
    assert current.expires <= start + ABSOLUTE


def test_a_forged_or_foreign_cookie_is_no_session(tmp_path) -> None:
    signer = Signer(load_key(tmp_path / "a"))
    cookie = signer.dump(signer.new("王芳", "stamp"))
    data, _, mac = cookie.rpartition(".")
    assert signer.load(cookie) is not None
    assert signer.load(f"{data}x.{mac}") is None
    assert signer.load(f"{data}.{'0' * len(mac)}") is None
    assert Signer(load_key(tmp_path / "b")).load(cookie) is None  # another installation's key
    assert (tmp_path / "a" / "console.key").stat().st_mode & 0o777 == 0o600


def test_the_csrf_token_belongs_to_its_session(tmp_path) -> None:
    signer = Signer(load_key(tmp_path))
    token = signer.csrf("sid-1")
    assert signer.csrf_ok("sid-1", token)
    assert not signer.csrf_ok("sid-2", token)
    assert not signer.csrf_ok("sid-1", None)
    assert not signer.csrf_ok(None, token)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!", "至少 8 个字符"),
        ("abcdefgh1", "至少三类"),
        ("Wangfang-2026", "不能包含账号名"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule(password: str, rule: str) -> None:
    with pytest.raises(AccountError, match=rule):
        check_password("wangfang", password)
    check_password("wangfang", "Qf-2026-duty")
