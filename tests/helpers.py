"""Helpers the tests share: recorded responses as Scrapy responses, a real `scrapy crawl` in its own process
against the replay server (Twisted's reactor cannot restart inside the test process), and `yuqing` itself
run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from config.env import PROJECT_ROOT
from pipeline.replay import ReplayServer


def recorded(directory: Path, url: str, round_: int = 1) -> Response:
    """The response recorded for `url` in `directory/index.json` as the site answered at `round_`, of the
    class and with the status and headers production would see."""
    entries = json.loads((directory / "index.json").read_text(encoding="utf-8"))["responses"]
    chosen = None
    for entry in sorted(entries, key=lambda e: e.get("round", 1)):
        if entry["url"] == url and entry.get("round", 1) <= round_:
            chosen = entry
    if chosen is None:
        raise LookupError(f"{directory}: no recording of {url} at round {round_}")
    body = (directory / chosen["file"]).read_bytes()
    headers = chosen.get("headers") or {}
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url=url, status=chosen.get("status", 200), headers=headers, body=body)


def crawl(
    spider: str,
    source: str,
    *,
    server: ReplayServer,
    data_dir: Path,
    config_dir: Path | None,
    now: str,
    out: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl <spider> -a source=<source>` through the replay server, items written to `out` (JSON
    lines), no stages, no politeness delay; the environment holds nothing of the caller's `YUQING_*`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    environment.update(YUQING_REPLAY_URL=server.base_url, YUQING_DATA_DIR=str(data_dir), YUQING_NOW=now)
    if config_dir is not None:
        environment["YUQING_CONFIG_DIR"] = str(config_dir)
    environment.update(extra_env or {})
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"source={source}", "-O", str(out)]
    command += ["-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=180, check=False
    )


def feed(path: Path) -> list[dict]:
    """The items a crawl wrote with `-O <path>.jsonl`; none when it wrote nothing."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_record(data_dir: Path, source: str) -> dict:
    """The newest run record (`var/runs/<source>-*.json`) a crawl left."""
    records = sorted((data_dir / "runs").glob(f"{source}-*.json"), key=lambda p: p.stat().st_mtime)
    if not records:
        raise LookupError(f"no run record of {source} under {data_dir / 'runs'}")
    return json.loads(records[-1].read_text(encoding="utf-8"))


def office_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any `YUQING_*` or `ES_*` setting, on the data folder `data_dir`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    environment.update(YUQING_DATA_DIR=str(data_dir), COLUMNS="200")
    environment.update(extra)
    return environment


def yuqing(
    *args: str, env: Mapping[str, str], timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`yuqing ARGS` in a real process from the project root, `input` on its standard input; a demo starts
    its own replay server and one crawl process for all its sources, as it does for a user."""
    return subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        cwd=PROJECT_ROOT,
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_demo(env: Mapping[str, str], *options: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`yuqing demo OPTIONS` as a newcomer runs it, which must succeed (its output is the failure message)."""
    result = yuqing("demo", *options, env=env, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result
