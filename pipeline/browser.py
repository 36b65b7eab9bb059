"""The system Chromium that renders pages built by JavaScript: where it is, how it is launched, and a check
that it really starts. Never a browser downloaded by Playwright; `YUQING_CHROMIUM` names another binary."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from config.env import Env
from config.errors import YuqingError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Headless on a server: no sandbox (containers often lack user namespaces), no GPU, and none of the
# background traffic (updates, sync, field trials) a desktop browser would start on its own.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


class BrowserMissing(YuqingError):
    """No usable Chromium: says which path was tried and how to install one."""


def chromium_path(env: Env) -> Path:
    """`YUQING_CHROMIUM` when set, else the first Chromium on PATH."""
    if env.chromium is not None:
        if not env.chromium.is_file():
            raise BrowserMissing(f"YUQING_CHROMIUM={env.chromium} 不是文件")
        return env.chromium
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserMissing(
        f"PATH 中没有 Chromium（找过 {'、'.join(CANDIDATES)}）：请安装（apt-get install chromium），"
        "或把 YUQING_CHROMIUM 设为它的路径"
    )


def launch_options(env: Env) -> dict[str, object]:
    """`PLAYWRIGHT_LAUNCH_OPTIONS` for scrapy-playwright."""
    return {"executable_path": str(chromium_path(env)), "headless": True, "args": list(LAUNCH_ARGS)}


@dataclass(frozen=True, slots=True)
class BrowserCheck:
    ok: bool
    detail: str


_PROBE = (
    "data:text/html;charset=utf-8,<title>yuqing</title><p id=probe>static</p>"
    "<script>document.getElementById('probe').textContent='rendered'</script>"
)


def check_browser(env: Env, timeout_ms: int = 30_000) -> BrowserCheck:
    """Launch the Chromium headless, render one page that changes itself in JavaScript, close it."""
    try:
        path = chromium_path(env)
    except BrowserMissing as exc:
        return BrowserCheck(False, str(exc))
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return BrowserCheck(False, "缺少 playwright 软件包：pip install playwright")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(path), headless=True, args=list(LAUNCH_ARGS), timeout=timeout_ms
            )
            try:
                page = browser.new_page()
                page.goto(_PROBE, timeout=timeout_ms)
                text = page.text_content("#probe", timeout=timeout_ms)
                version = browser.version
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return BrowserCheck(False, f"{path} 无法启动：{first}")
    if text != "rendered":
        return BrowserCheck(False, f"{path} 已启动，但没有执行网页里的 JavaScript（看到的是 {text!r}）")
    return BrowserCheck(True, f"{path}（Chromium {version}）可无界面渲染 JavaScript 网页")
