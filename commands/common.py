"""What every command of the CLI shares: its two consoles, one way to fail with a Chinese message, the
exit codes, and loading the config files a command reads.

Exit codes, the same for every command (scripts and the scheduler read them):

| code | name           | meaning                                                                          |
|------|----------------|----------------------------------------------------------------------------------|
| 0    | OK             | done                                                                             |
| 1    | FAILED         | what was asked was right, but it could not be done: a database or store that      |
|      |                | cannot be used, another process sending, a full disk, doctor found 故障           |
| 2    | USAGE          | what was typed or configured is wrong: an option, a config file, an action the    |
|      |                | rules refuse (claiming another unit's case); nothing was changed                   |
| 3    | INCOMPLETE     | it ran, but not all of it: a patrol with a failed source, a serve that found       |
|      |                | another one already leading                                                        |
| 4    | LEADERSHIP_LOST | a serve that led lost its hold on the shared database and stopped                |
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from config.env import get_env
from config.errors import ConfigError
from config.loader import ALL, config_dir, load_config, load_file, rules_in_force
from config.models import AlertsFile, OfficeConfig

out = Console()
err = Console(stderr=True)


class Exit(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    INCOMPLETE = 3
    LEADERSHIP_LOST = 4


def say_error(message: str) -> None:
    """One line on standard error: 错误：and the message, shown as it is (no markup read in it)."""
    err.print(f"[red]错误：[/red]{escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: Exit = Exit.USAGE) -> typer.Exit:
    """Says the message and gives the exit to raise: `raise fail("…")`."""
    say_error(message)
    return typer.Exit(int(code))


def load_office(only: frozenset[str] = ALL) -> OfficeConfig:
    """The config files a command reads, and only those: a mistake in another file does not stop it."""
    try:
        rules = rules_in_force(get_env()) if "rules" in only else None
        return load_config(only=only, rules=rules)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def alerts_config() -> AlertsFile:
    """alerts.yaml alone: a mistake in another file must not stop alerts already raised from going out."""
    try:
        return load_file(config_dir() / "alerts.yaml", AlertsFile)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def write_out(text: str, file: Path | None, what: str = "") -> None:
    """`text` to the file a person named (relative to where they typed the command), or to the screen when
    they named none; `what` says what was written, e.g. "：12 条情感标注"."""
    from commands.userpaths import user_path

    if file is None:
        typer.echo(text, nl=False)
        return
    path = user_path(str(file))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"无法写入 {path}：{exc}", Exit.FAILED) from None
    err.print(f"已写入 {path}{what}", highlight=False)
