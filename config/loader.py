"""The only module that reads YAML: loads config/*.yaml into `OfficeConfig` and checks it once.

A broken file raises `ConfigError(file, key, reason)`, whose message is one line: the file with the
line number, the key path, and what is wrong. A command loads only the files it reads
(`load_config(only=...)`), so a mistake in one file stops only the commands that need that file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from classifiers.rules import RuleError, compile_rules
from config.errors import ConfigError
from config.models import (
    AlertsFile,
    OfficeConfig,
    RulesFile,
    ScheduleFile,
    SeverityFile,
    SourcesFile,
    TerritoryFile,
    UnitsFile,
)

DEFAULT_DIR = Path(__file__).resolve().parent

M = TypeVar("M", bound=BaseModel)

FILES: dict[str, type[BaseModel]] = {
    "sources": SourcesFile,
    "rules": RulesFile,
    "territory": TerritoryFile,
    "units": UnitsFile,
    "severity": SeverityFile,
    "alerts": AlertsFile,
    "schedule": ScheduleFile,
}


ALL: frozenset[str] = frozenset(FILES)


class PartialOffice(OfficeConfig):
    """The files one command loaded. Reading a file it did not load is a mistake in that command, so it
    fails at once, naming the file, instead of quietly giving nothing."""

    def __getattr__(self, item: str) -> Any:
        if item in FILES:
            raise AttributeError(f"{item}.yaml was not loaded for this command (load_config(only=...))")
        return super().__getattr__(item)  # type: ignore[misc]


def config_dir() -> Path:
    """`YUQING_CONFIG_DIR` when set, else the example shipped in this package."""
    return Path(os.environ.get("YUQING_CONFIG_DIR") or DEFAULT_DIR)


def load_config(directory: Path | str | None = None, *, only: Iterable[str] | None = None) -> OfficeConfig:
    """The office's config; with `only`, just those files (e.g. `{"units", "schedule"}`), each checked
    as fully as when all are loaded, the others not read at all."""
    directory = Path(directory) if directory else config_dir()
    names = ALL if only is None else frozenset(only)
    if unknown := names - ALL:
        raise ValueError(f"no such config file: {', '.join(sorted(unknown))} (known: {', '.join(FILES)})")
    parts = {
        name: load_file(directory / f"{name}.yaml", model) for name, model in FILES.items() if name in names
    }
    if "rules" in parts:
        _check_rules(directory / "rules.yaml", parts["rules"])
    if names == ALL:
        return OfficeConfig(**parts)
    # Each part was validated on its own above; the whole has no checks across files to run.
    return PartialOffice.model_construct(**parts)


def load_file(path: Path, model: type[M]) -> M:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(where, "-", "file not found", "file") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{where}:{line}", "-", "not UTF-8 text; save the file as UTF-8", "encoding"
        ) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if getattr(exc, "context", None) == "while scanning a simple key":
            # A key without its colon is only noticed on the next line; the typo is where the key starts.
            mark = getattr(exc, "context_mark", None) or mark
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}{line}", "-", f"YAML syntax: {problem}", "yaml") from None
    if not isinstance(data, dict):
        raise ConfigError(where, "-", "expected a mapping at the top level", "yaml")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A mistyped key also makes the real one "missing"; the unknown key is the one to point at.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        loc = tuple(error["loc"])
        raise ConfigError(
            f"{where}{_line_of(node, loc)}", _key_path(loc), error["msg"], error["type"]
        ) from None


def _check_rules(path: Path, rules: RulesFile) -> None:
    try:
        compile_rules([(r.id, r.expr) for r in rules.rules])
    except RuleError as exc:
        index = next(i for i, r in enumerate(rules.rules) if r.id == exc.rule_id)
        loc = ("rules", index, "expr")
        node = yaml.compose(path.read_text(encoding="utf-8"))
        raise ConfigError(f"{path}{_line_of(node, loc)}", _key_path(loc), str(exc), "rule") from None


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "-"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """The line of the deepest YAML node the error's location reaches."""
    line = node.start_mark.line + 1 if node else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return f":{line}" if line else ""
