"""Settings and secrets come from the process environment over one `.env` file, read in one place: the
data folder, the Elasticsearch address and a channel's webhook all come from the same file, and a variable
set in the environment wins over the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config.env import PROJECT_ROOT

SHOW = """
from config.env import get_env
from config.secrets import configured_secrets
env = get_env()
print(env.data_dir)
print(env.es_url)
print(env.smtp_password.get_secret_value() if env.smtp_password else None)
print("SUB=" + "abcdef123456" in configured_secrets())
"""


def run(env_file: Path, **extra: str) -> list[str]:
    environ = {"PATH": "/usr/bin:/bin", "YUQING_ENV_FILE": str(env_file), **extra}
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_every_setting_and_secret_comes_from_the_one_env_file(tmp_path: Path) -> None:
    dotenv = tmp_path / "office.env"
    dotenv.write_text(
        f"YUQING_DATA_DIR={tmp_path / 'office'}\n"
        "ES_URL=http://127.0.0.1:9\n"
        "YUQING_SMTP_PASSWORD=s3cret-pass\n"
        "YUQING_WEIBO_COOKIE=SUB=abcdef123456\n",
        encoding="utf-8",
    )
    data_dir, es_url, password, cookie_masked = run(dotenv)
    assert (data_dir, es_url, password) == (str(tmp_path / "office"), "http://127.0.0.1:9", "s3cret-pass")
    assert cookie_masked == "True"  # the cookie from the file is among the secrets masked in every log line


def test_the_environment_wins_over_the_file_but_a_variable_set_empty_leaves_it(tmp_path: Path) -> None:
    dotenv = tmp_path / "office.env"
    dotenv.write_text("ES_URL=http://127.0.0.1:9\nYUQING_SMTP_PASSWORD=from-file\n", encoding="utf-8")
    _data, es_url, password, _cookie = run(dotenv, ES_URL="http://127.0.0.1:10", YUQING_SMTP_PASSWORD="")
    assert (es_url, password) == ("http://127.0.0.1:10", "from-file")


def test_without_the_file_the_defaults_hold(tmp_path: Path) -> None:
    data_dir, es_url, password, cookie = run(tmp_path / "absent.env")
    assert (data_dir, es_url, password, cookie) == (str(PROJECT_ROOT / "var"), "None", "None", "False")
