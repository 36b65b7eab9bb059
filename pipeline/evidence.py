"""存证: a copy of an alerted post's original page, taken soon after the alert, because posts get deleted
and an office needs proof of what was said.

For each post alert without one, the system Chromium opens the original's address and keeps the page's
HTML as rendered and a full-page screenshot, with the time, the address reached and the SHA-256 of each
file in `manifest.json`, under `<data>/evidence/<post>/`. A page that cannot be reached is recorded as a
failed attempt, with the reason, and tried again at the next round up to `ATTEMPTS` times; nothing else is
lost. `serve` takes the copies after each patrol; `yuqing evidence` does it by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from config.env import Env
from pipeline.browser import LAUNCH_ARGS, chromium_path

ATTEMPTS = 3
TIMEOUT_MS = 30_000
WIDTH, HEIGHT = 1280, 900
# Alerts older than this are not copied any more: what they pointed to is most likely gone or changed.
RECENT = timedelta(days=3)
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


@dataclass(frozen=True, slots=True)
class Evidence:
    post_id: str
    url: str
    final_url: str
    captured_at: str  # ISO time
    html_sha256: str
    screenshot_sha256: str
    folder: Path


def folder_of(env: Env, post_id: str) -> Path:
    return env.data_dir / "evidence" / _UNSAFE.sub("_", post_id)


def read(env: Env, post_id: str) -> Evidence | None:
    """The post's evidence copy, if one was taken (and its files are where the manifest says)."""
    folder = folder_of(env, post_id)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("status") != "ok":
        return None
    return Evidence(
        post_id=manifest["post_id"],
        url=manifest["url"],
        final_url=manifest["final_url"],
        captured_at=manifest["captured_at"],
        html_sha256=manifest["files"]["page.html"],
        screenshot_sha256=manifest["files"]["screenshot.png"],
        folder=folder,
    )


def attempts(env: Env, post_id: str) -> list[dict[str, Any]]:
    try:
        data = json.loads((folder_of(env, post_id) / "attempts.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def verify(evidence: Evidence) -> bool:
    """Whether the kept files still hash to what was recorded when they were taken."""
    return all(
        _sha256(evidence.folder / name) == digest
        for name, digest in (
            ("page.html", evidence.html_sha256),
            ("screenshot.png", evidence.screenshot_sha256),
        )
    )


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def wanted(env: Env, alerts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Of (post id, url) pairs, those still without a copy and not yet given up on."""
    out = []
    for post_id, url in dict.fromkeys(alerts):
        if not post_id or not url.startswith(("http://", "https://")):
            continue
        if read(env, post_id) is None and len(attempts(env, post_id)) < ATTEMPTS:
            out.append((post_id, url))
    return out


def capture(env: Env, posts: list[tuple[str, str]], now: datetime) -> tuple[list[Evidence], list[str]]:
    """Takes a copy of each (post id, url) with one Chromium; returns the copies taken and, for each page
    that could not be, the reason in words."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    taken: list[Evidence] = []
    failed: list[str] = []
    if not posts:
        return taken, failed
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path(env)), headless=True, args=list(LAUNCH_ARGS)
        )
        try:
            for post_id, url in posts:
                folder = folder_of(env, post_id)
                folder.mkdir(parents=True, exist_ok=True)
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                try:
                    response = page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
                    if response is None or response.status >= 400:
                        status = response.status if response else "无应答"
                        raise _Unreachable(f"原网页返回 HTTP {status}")
                    html = page.content().encode("utf-8")
                    shot = page.screenshot(full_page=True)
                    final_url = page.url
                except (PlaywrightError, _Unreachable) as exc:
                    reason = str(exc).splitlines()[0][:200]
                    _attempt(folder, now, url, reason)
                    failed.append(f"{post_id}：{reason}")
                    continue
                finally:
                    page.close()
                _write(folder / "page.html", html)
                _write(folder / "screenshot.png", shot)
                manifest = {
                    "status": "ok",
                    "post_id": post_id,
                    "url": url,
                    "final_url": final_url,
                    "captured_at": now.isoformat(),
                    "files": {
                        "page.html": hashlib.sha256(html).hexdigest(),
                        "screenshot.png": hashlib.sha256(shot).hexdigest(),
                    },
                }
                _write(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
                found = read(env, post_id)
                assert found is not None
                taken.append(found)
        finally:
            browser.close()
    return taken, failed


class _Unreachable(Exception):
    pass


def _attempt(folder: Path, now: datetime, url: str, reason: str) -> None:
    path = folder / "attempts.json"
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = []
    earlier.append({"at": now.isoformat(), "url": url, "reason": reason})
    _write(path, json.dumps(earlier, ensure_ascii=False, indent=1).encode())
