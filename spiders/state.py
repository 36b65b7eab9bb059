"""Where a source's last patrol stopped, so the next one fetches only what is new.

One JSON file per configured source under `state_dir`: the newest publication time seen and the ids seen
recently with the version (modification time) each was fetched at. Written atomically so a crash mid-write
leaves the previous state, never a torn file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from config.env import get_env
from pipeline.items import SHANGHAI

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 2000
FORMAT = 1


@dataclass(slots=True)
class SourceState:
    """`seen` maps a source's native id to the version (unix seconds) fetched; oldest first, at most `limit`."""

    source: str
    newest: int | None = None
    seen: dict[str, int] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT

    @property
    def first_run(self) -> bool:
        return self.newest is None and not self.seen

    def is_new(self, native_id: str, version: int) -> bool:
        """New when never fetched, or changed since (a later modification time)."""
        known = self.seen.get(native_id)
        return known is None or version > known

    def remember(self, native_id: str, published: int, version: int) -> None:
        self.seen.pop(native_id, None)
        self.seen[native_id] = version
        while len(self.seen) > self.limit:
            del self.seen[next(iter(self.seen))]
        if self.newest is None or published > self.newest:
            self.newest = published

    @staticmethod
    def path_for(source: str, directory: Path | None = None) -> Path:
        return (directory or get_env().state_dir) / f"{source}.json"

    @classmethod
    def load(cls, source: str, directory: Path | None = None, limit: int = DEFAULT_LIMIT) -> SourceState:
        """The saved state, or a fresh one when there is none; a damaged file is reported and set aside."""
        path = cls.path_for(source, directory)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(source=source, limit=limit)
        except (OSError, ValueError) as exc:
            logger.warning("%s: state file %s is unreadable (%s); starting afresh", source, path, exc)
            return cls(source=source, limit=limit)
        try:
            seen = {str(k): int(v) for k, v in (data.get("seen") or {}).items()}
            newest = data.get("newest")
            state = cls(source=source, newest=int(newest) if newest is not None else None, limit=limit)
        except (AttributeError, TypeError, ValueError) as exc:
            logger.warning(
                "%s: state file %s has unexpected content (%s); starting afresh", source, path, exc
            )
            return cls(source=source, limit=limit)
        for native_id, version in seen.items():
            state.seen[native_id] = version
        while len(state.seen) > limit:
            del state.seen[next(iter(state.seen))]
        return state

    def save(self, directory: Path | None = None) -> Path:
        path = self.path_for(self.source, directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT,
            "source": self.source,
            "newest": self.newest,
            "newest_at": datetime.fromtimestamp(self.newest, SHANGHAI).isoformat() if self.newest else None,
            "seen": self.seen,
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{self.source}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
