"""Keeps `yuqing serve` on the last good config while an edited file is broken.

Before each job the config folder is read and checked; a good one is copied to a snapshot under the data
folder, which the patrol's crawl processes read (`YUQING_CONFIG_DIR`), so they see exactly what was checked.
A broken one leaves the jobs on the last good snapshot and tells duty staff once per distinct error, with a
【配置错误】 alert through the outbox; the fixed file is taken up by the next job, without a restart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alerts.models import Alert, AlertKind
from alerts.outbox import Outbox
from classifiers.types import Level
from config.env import Env
from config.errors import ConfigError
from config.loader import FILES, config_dir, load_config, rules_in_force
from config.models import OfficeConfig
from pipeline import clock
from pipeline.items import SHANGHAI

logger = logging.getLogger(__name__)

STATE = "state.json"


def _beijing(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _where(error: ConfigError) -> str:
    name = Path(error.path).name
    return f"{name} 第 {error.line} 行" if error.line else name


def config_alert(error: ConfigError, duty: list[str], at: datetime, *, spell: str, effect: str) -> Alert:
    """A 【配置错误】 alert to duty staff: one per distinct error within one `spell` (the key part naming
    the time the config broke, or the day). `effect` says what runs meanwhile."""
    digest = hashlib.sha256(str(error).encode("utf-8")).hexdigest()[:16]
    where = f"文件：{error.path}" + (f"，第 {error.line} 行" if error.line else "")
    return Alert(
        key=f"config:{spell}:{digest}",
        post_id="",
        event_id="config",
        level=Level.GENERAL,
        title=f"{_where(error)}（{error.key}）",
        url="",
        source="配置",
        summary=str(error),
        created_at=at,
        reasons=[
            where,
            f"位置：{error.key}",
            f"原因：{error.reason}",
            effect,
            "处理建议：按上面的文件、行和原因改正后保存；下一次任务自动重新读取，无需重启。",
        ],
        inform=list(duty),
        kind=AlertKind.CONFIG,
    )


def report_config_failure(
    directory: Path, *, outbox_path: Path, duty: list[str], at: datetime
) -> ConfigError | None:
    """For a crawl process that died: if the config it read is broken, that is the cause, not its site. Then
    a 【配置错误】 alert (one per distinct error a day) goes to duty staff and the error is returned."""
    try:
        load_config(directory)
    except ConfigError as error:
        logger.error("抓取进程因配置错误退出（不是网站的问题）：%s", error)
        effect = (
            f"{_beijing(at)} 抓取进程读取配置时出错退出；这是配置问题，不是网站的问题。"
            "本次巡查开始时配置检查通过，其后该文件被改动。"
        )
        alert = config_alert(error, duty, at, spell=f"{at.astimezone(SHANGHAI):%Y-%m-%d}", effect=effect)
        outbox = Outbox(outbox_path)
        try:
            outbox.enqueue(alert)
        finally:
            outbox.close()
        return error
    return None


@dataclass(frozen=True, slots=True)
class Checked:
    """What the jobs run on now: the office, the snapshot folder its crawls read, and whether a new
    【配置错误】 alert waits in the outbox."""

    office: OfficeConfig
    folder: Path | None
    alerted: bool = False


class ConfigWatch:
    """The config folder `serve` watches and the snapshots of its last good state (`<data>/config-snapshots/`,
    one folder per content, never changed once written; `state.json` names the good one and any error)."""

    def __init__(
        self, env: Env, source: Path | None = None, *, now: Callable[[], datetime] = clock.now
    ) -> None:
        self.source = Path(source or config_dir())
        self.env = env
        self.root = env.data_dir / "config-snapshots"
        self.outbox_path = env.outbox_path
        self.now = now
        self._lock = threading.Lock()

    # -- state ----------------------------------------------------------------------------------------

    def _state(self) -> dict:
        try:
            state = json.loads((self.root / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        # A snapshot of another office's folder is no fallback for this one.
        return state if state.get("source") == str(self.source.resolve()) else {}

    def _save(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{STATE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.root / STATE)

    def last_good(self) -> Path | None:
        """The snapshot of the last config that loaded, if there is one."""
        good = self._state().get("good")
        folder = self.root / good if good else None
        return folder if folder is not None and folder.is_dir() else None

    # -- reading the folder ---------------------------------------------------------------------------

    def _read(self) -> tuple[dict[str, bytes], str]:
        files: dict[str, bytes] = {}
        # The analysts' rules version in force stands in for the folder's rules.yaml: a version saved in the
        # console or imported is in the next snapshot, so the next patrol runs on it, without a restart.
        in_force = rules_in_force(self.env, self.source)
        for name in FILES:
            try:
                path = in_force if name == "rules" and in_force else self.source / f"{name}.yaml"
                files[name] = path.read_bytes()
            except OSError:
                continue  # the loader names a missing file
        digest = hashlib.sha256()
        for name, data in sorted(files.items()):
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        return files, digest.hexdigest()[:16]

    def _stage(self, files: dict[str, bytes]) -> Path:
        staging = self.root / f".staging-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, data in files.items():
            (staging / f"{name}.yaml").write_bytes(data)
        return staging

    def _load_staged(self, staging: Path) -> OfficeConfig:
        """The bytes read once, checked as a copy, so what is checked is what the crawls get; errors name
        the office's own file."""
        try:
            return load_config(staging)
        except ConfigError as exc:
            file = exc.file.replace(str(staging), str(self.source), 1)
            raise ConfigError(file, exc.key, exc.reason, exc.kind) from None

    # -- what serve calls -----------------------------------------------------------------------------

    def startup(self) -> OfficeConfig:
        """The config to start on, reading only: the folder's, else the last good snapshot; with neither,
        the folder's ConfigError (serve then refuses to start, as every command does)."""
        try:
            return load_config(self.source)
        except ConfigError as error:
            folder = self.last_good()
            if folder is None:
                raise
            try:
                office = load_config(folder)
            except ConfigError:
                raise error from None
            logger.error("配置错误：%s；按上一份检查通过的配置（%s）启动", error, folder)
            return office

    def check(self, office: OfficeConfig) -> Checked:
        """Before a job: the folder's config if it changed and loads; else `office`, the last good one."""
        with self._lock:
            files, digest = self._read()
            state = self._state()
            broken = state.get("broken")
            if digest == state.get("good") and (self.root / digest).is_dir():
                if broken:  # the edit was undone: the snapshot already holds this content
                    return self._recovered(state, load_config(self.root / digest), digest)
                return Checked(office, self.root / digest)
            if broken and broken.get("digest") == digest:
                return Checked(office, self.last_good())
            staging = self._stage(files)
            try:
                new = self._load_staged(staging)
            except ConfigError as error:
                shutil.rmtree(staging, ignore_errors=True)
                return self._broken(state, error, digest, office)
            target = self.root / digest
            if target.is_dir():
                shutil.rmtree(staging, ignore_errors=True)
            else:
                staging.rename(target)
            if broken:
                return self._recovered(state, new, digest)
            state |= {"source": str(self.source.resolve()), "good": digest, "good_at": self.now().isoformat()}
            self._save(state)
            logger.info("配置已读取并检查通过：%s（快照 %s）", self.source, target)
            return Checked(new, target)

    def _broken(self, state: dict, error: ConfigError, digest: str, office: OfficeConfig) -> Checked:
        now = self.now()
        broken = state.get("broken") or {}
        since = datetime.fromisoformat(broken["since"]) if broken.get("since") else now
        folder = self.last_good()
        good_at = state.get("good_at")
        using = (
            f"各项任务继续按 {_beijing(datetime.fromisoformat(good_at))} 检查通过的上一份配置运行，"
            "该文件的改动尚未生效。"
            if good_at
            else "各项任务继续按启动时的配置运行，该文件的改动尚未生效。"
        )
        effect = f"自 {_beijing(since)} 起该配置无法读取；{using}"
        # The spell is named by the good config it broke away from, so the key is the same when a crash
        # between the alert and the state below makes this run again: the outbox then adds nothing.
        spell = f"{state.get('good', '-')}@{good_at or since.isoformat()}"
        alert = config_alert(error, office.units.city_units.duty, now, spell=spell, effect=effect)
        outbox = Outbox(self.outbox_path)
        try:
            alerted = outbox.enqueue(alert)
        finally:
            outbox.close()
        logger.error("配置错误：%s；%s", error, using)
        state |= {
            "source": str(self.source.resolve()),
            "broken": {"digest": digest, "since": since.isoformat(), "error": str(error)},
        }
        self._save(state)
        return Checked(office, folder, alerted)

    def _recovered(self, state: dict, office: OfficeConfig, digest: str) -> Checked:
        state.pop("broken", None)
        state |= {"source": str(self.source.resolve()), "good": digest, "good_at": self.now().isoformat()}
        self._save(state)
        # At warning level, so it shows wherever the error was shown.
        logger.warning("配置已恢复正常：%s 检查通过，各项任务从现在起按新配置运行", self.source)
        return Checked(office, self.root / digest)

    def prune(self, keep: Path | None) -> None:
        """Drop snapshots other than `keep` (and copies a crash left half made); called only while no
        patrol runs, since crawls read them."""
        with self._lock:
            if not self.root.is_dir():
                return
            for folder in self.root.iterdir():
                if folder.is_dir() and folder != keep:
                    shutil.rmtree(folder, ignore_errors=True)
