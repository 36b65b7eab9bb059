"""The only module that reads YAML: loads config/*.yaml into `OfficeConfig` and checks it once.

A broken file raises `ConfigError(file, key, reason)`, whose message is one line: the file with the
line number, the key path, and what is wrong. A command loads only the files it reads
(`load_config(only=...)`), so a mistake in one file stops only the commands that need that file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from classifiers.rules import RuleError, compile_rules
from config.env import Env
from config.errors import ConfigError, explain
from config.models import (
    AlertsFile,
    OfficeConfig,
    RulesFile,
    ScheduleFile,
    SeverityFile,
    SourcesFile,
    TerritoryFile,
    UnitsFile,
    unit_names,
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


def load_config(
    directory: Path | str | None = None, *, only: Iterable[str] | None = None, rules: Path | None = None
) -> OfficeConfig:
    """The office's config; with `only`, just those files (e.g. `{"units", "schedule"}`), each checked
    as fully as when all are loaded, the others not read at all. `rules` is read in place of the folder's
    rules.yaml (the analysts' version in force, `rules_in_force`)."""
    directory = Path(directory) if directory else config_dir()
    names = ALL if only is None else frozenset(only)
    if unknown := names - ALL:
        raise ValueError(f"no such config file: {', '.join(sorted(unknown))} (known: {', '.join(FILES)})")
    paths = {name: directory / f"{name}.yaml" for name in FILES} | ({"rules": rules} if rules else {})
    parts: dict[str, Any] = {  # each file's own model, by the file's name
        name: load_file(paths[name], model) for name, model in FILES.items() if name in names
    }
    if "rules" in parts:
        _check_rules(paths["rules"], parts["rules"])
    # A check across files runs only when every file it reads was loaded: a command that did not read
    # one of them must not stop on it.
    if {"alerts", "units", "territory"} <= names:
        _check_units(
            directory / "alerts.yaml", parts["alerts"], unit_names(parts["units"], parts["territory"])
        )
    if names == ALL:
        return OfficeConfig.model_validate(parts)
    return PartialOffice.model_construct(None, **parts)


def rules_in_force(env: Env, directory: Path | None = None) -> Path | None:
    """The analysts' rules version in force (`Env.rules_path`), when one has been saved and `directory` is
    the office's own config folder: a snapshot `serve` checked already holds it, as it was then."""
    path = env.rules_path
    if not path.is_file():
        return None
    folder = Path(directory or config_dir()).resolve()
    if folder.is_relative_to((env.data_dir / "config-snapshots").resolve()):
        return None
    return path


def check_rules_text(text: str, where: str) -> RulesFile:
    """A rules file's content checked as `load_config` checks rules.yaml (YAML, fields, every expression),
    before anything is saved; errors name `where` and the line."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            rules = load_file(path, RulesFile)
            _check_rules(path, rules)
        except ConfigError as exc:
            raise ConfigError(exc.file.replace(str(path), where, 1), exc.key, exc.reason, exc.kind) from None
    return rules


def load_file(path: Path, model: type[M]) -> M:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(where, "-", "文件不存在", "file") from None
    except IsADirectoryError:
        raise ConfigError(where, "-", "这是一个文件夹，不是文件", "file") from None
    except PermissionError:
        raise ConfigError(where, "-", "没有读取这个文件的权限", "file") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{where}:{line}", "-", "不是 UTF-8 编码的文本，请把文件另存为 UTF-8", "encoding"
        ) from None
    except OSError as exc:
        raise ConfigError(where, "-", f"无法读取：{exc.strerror or exc}", "file") from None
    try:
        node, data = _parse(text)
    except yaml.YAMLError:
        # Read again by the pure-Python parser, which words its complaints as `_YAML_PROBLEMS` expects;
        # a broken file is rare enough that reading it twice costs nothing anyone notices.
        try:
            node, data = yaml.compose(text), yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _yaml_error(where, exc) from None
    if not isinstance(data, dict):
        raise ConfigError(where, "-", "文件最外层应是“键: 值”的映射，现在是空的或不是映射", "yaml")
    _refuse_repeated_keys(where, node)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A mistyped key also makes the real one "missing"; the unknown key is the one to point at.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        loc = tuple(part for part in error["loc"] if part != "[key]")  # pydantic's mark of a wrong key name
        raise ConfigError(
            f"{where}{_line_of(node, loc)}", _key_path(loc), explain(error), error["type"]
        ) from None


# libyaml's parser, where PyYAML was built with it: several times faster than the pure-Python one.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers and repeated keys) and the data, from one parse."""
    loader = _FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _yaml_error(where: str, exc: yaml.YAMLError) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    if getattr(exc, "context", None) == "while scanning a simple key":
        # A key without its colon is only noticed on the next line; the typo is where the key starts.
        mark = getattr(exc, "context_mark", None) or mark
    line = f":{mark.line + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ConfigError(f"{where}{line}", "-", f"YAML 格式错误：{_yaml_problem(problem)}", "yaml")


# PyYAML's complaints, most common first, in the words of someone editing the file.
_YAML_PROBLEMS = (
    ("found character '\\t'", "有制表符（Tab），YAML 只能用空格缩进"),
    ("could not find expected ':'", "缺少冒号，或冒号后缺少空格（应写成“键: 值”）"),
    ("mapping values are not allowed here", "这里不能出现“键: 值”（多半是值里的冒号没加引号，或缩进不对）"),
    ("found unexpected end of stream", "引号没有配对：直到文件末尾也没有找到后一个引号"),
    ("expected ',' or ']'", "方括号 [ 没有闭合，或两项之间缺少逗号"),
    ("expected ',' or '}'", "花括号 { 没有闭合，或两项之间缺少逗号"),
    ("expected <block end>", "缩进不对：这一行和上面的同级项没有对齐"),
    ("found undefined alias", "引用了没有定义的锚点（以 * 开头的值要加引号）"),
    ("found character", "这个字符不能用在值的开头（以 @、` 等开头的值要加引号）"),
)


def _yaml_problem(problem: str) -> str:
    for start, words in _YAML_PROBLEMS:
        if problem.startswith(start):
            return f"{words}（{problem}）" if start == "found character" else words
    return problem


def _refuse_repeated_keys(where: str, root: yaml.Node | None) -> None:
    """YAML keeps the last of two equal keys and drops the first without a word; an office that wrote a
    key twice meant something by each, so the second is refused where it stands."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:  # an alias shares its anchor's node
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, (*loc, i)) for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            keys: dict[tuple[str, str], yaml.Node] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    first = keys.setdefault((key.tag, key.value), key)
                    if first is not key:
                        raise ConfigError(
                            f"{where}:{key.start_mark.line + 1}",
                            _key_path((*loc, key.value)),
                            f"键重复：第 {first.start_mark.line + 1} 行已经写过 {key.value}；YAML 只会留下后一个、悄悄丢掉前一个，"
                            "请删去或合并其中一个",
                            "duplicate_key",
                        )
                stack.append((value, (*loc, key.value)))


def _check_rules(path: Path, rules: RulesFile) -> None:
    try:
        compile_rules([(r.id, r.expr) for r in rules.rules])
    except RuleError as exc:
        index = next(i for i, r in enumerate(rules.rules) if r.id == exc.rule_id)
        loc = ("rules", index, "expr")
        node = yaml.compose(path.read_text(encoding="utf-8"))
        raise ConfigError(f"{path}{_line_of(node, loc)}", _key_path(loc), str(exc), "rule") from None


def _check_units(path: Path, alerts: AlertsFile, known: Mapping[str, str]) -> None:
    """Every unit alerts.yaml names (under `recipients`, an email channel's `to`, a bot's `mentions`) is one
    of units.yaml and territory.yaml: a misspelt one would be told nothing, and its real unit neither."""
    named: list[tuple[tuple[Any, ...], str]] = [(("recipients", unit), unit) for unit in alerts.recipients]
    for index, channel in enumerate(alerts.channels):
        for option in ("to", "mentions"):
            table = channel.options.get(option)
            if isinstance(table, dict):
                named += [(("channels", index, "options", option, unit), unit) for unit in table]
    for loc, unit in named:
        if unit not in known:
            close = difflib.get_close_matches(unit, sorted(known), n=3, cutoff=0.5)
            hint = (
                f"相近的有：{'、'.join(close)}"
                if close
                else "单位名称以 units.yaml、territory.yaml 的写法为准"
            )
            node = yaml.compose(path.read_text(encoding="utf-8"))
            raise ConfigError(
                f"{path}{_line_of(node, loc)}",
                _key_path(loc),
                f"没有名为“{unit}”的单位，发给它的预警无人收到（{hint}）",
                "unknown_unit",
            )


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
