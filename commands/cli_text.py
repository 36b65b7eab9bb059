"""The command line's own words in Chinese: what typer prints around our help texts and errors (Usage,
Options, Missing option, No such command, …).

Typer writes these in English, some as module constants and some inside its own copy of click. `install()`
sets the constants and puts a Chinese wording on the usage line, the help option and the usage errors;
each step is skipped when typer no longer has the attribute it changes, so a typer upgrade can only bring
English back, never break a command (`tests/pipeline/test_cli_text.py` notices either).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

HELP_OPTION = "显示本帮助并退出。"
USAGE_PREFIX = "用法："

_PANELS = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "用 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEPRECATED_STRING": "（已弃用）",
}

# The value kinds typer shows beside each option (`<str>`); a flag shows none.
_LABELS = {
    "<str>": "<文本>",
    "<int>": "<整数>",
    "<float>": "<数字>",
    "<bool>": "",
    "<path>": "<路径>",
    "<file>": "<文件>",
    "<directory>": "<文件夹>",
    "<datetime>": "<时间>",
    "<list[str]>": "<文本>",
}

_KINDS = {"option": "选项", "argument": "参数", "parameter": "参数"}
_TYPES = {"integer": "整数", "int": "整数", "float": "数字", "boolean": "是或否", "bool": "是或否"}

# A usage error as typer words it -> the same in Chinese. Tried in order; unmatched text stays as it is.
_ERRORS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^Missing (option|argument|parameter) (.+?)\.(?: (.*))?$", re.DOTALL),
        lambda m: f"缺少{_KINDS[m[1]]} {m[2]}。" + (f"{translate_error(m[3])}" if m[3] else ""),
    ),
    (re.compile(r"^No such option: (.+?)(?:\. Did you mean (.+)\?)?$"), lambda m: _no_such("选项", m)),
    (re.compile(r"^No such command (.+?)\.(?: Did you mean (.+)\?)?$"), lambda m: _no_such("命令", m)),
    (re.compile(r"^Got unexpected extra argument\(s\) \((.+)\)$"), lambda m: f"多余的参数：{m[1]}"),
    (re.compile(r"^Option (.+) does not take a value\.$"), lambda m: f"选项 {m[1]} 不带值。"),
    (re.compile(r"^Option (.+) requires (.+)$"), lambda m: f"选项 {m[1]} 需要一个值。"),
    (
        re.compile(r"^Invalid value for (.+?): (.+)$", re.DOTALL),
        lambda m: f"{m[1]} 的值无效：{translate_error(m[2])}",
    ),
    (re.compile(r"^Invalid value: (.+)$", re.DOTALL), lambda m: f"值无效：{translate_error(m[1])}"),
    (
        re.compile(r"^(?:Value )?(.+) is not a valid (\w+)\.$"),
        lambda m: f"{m[1]} 不是有效的{_TYPES.get(m[2], m[2])}。",
    ),
    (
        re.compile(r"^Input should be a valid (integer|number|boolean)\b.*$", re.DOTALL),
        lambda m: _should_be(m[1]),
    ),
    (re.compile(r"^(.+) is not one of (.+)\.$"), lambda m: f"{m[1]} 不在可选值 {m[2]} 之中。"),
    (re.compile(r"^(.+) is not in the range (.+)\.$"), lambda m: f"{m[1]} 超出范围 {m[2]}。"),
]


def _no_such(kind: str, match: re.Match[str]) -> str:
    text = f"没有{kind} {match[1]}。"
    return text + (f"您是否想输入 {match[2]}？" if match[2] else "")


def _should_be(kind: str) -> str:
    return f"应为{ {'integer': '整数', 'number': '数字', 'boolean': '是或否'}[kind] }"


def translate_error(message: str) -> str:
    """A usage error in Chinese, where its wording is known."""
    for pattern, words in _ERRORS:
        if match := pattern.match(message.strip()):
            return words(match)
    return message


def _translated_help_option(original: Callable[..., Any]) -> Callable[..., Any]:
    def help_option(param_decls: list[str]) -> Callable[[Any], Any]:
        decorate = original(param_decls)

        def decorator(command: Any) -> Any:
            result = decorate(command)
            command.params[-1].help = HELP_OPTION
            return result

        return decorator

    return help_option


def _translated_usage(original: Callable[..., None]) -> Callable[..., None]:
    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]...")
        original(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    return write_usage


def _translated_type(original: Callable[..., str]) -> Callable[..., str]:
    def display_type(self: Any, ctx: Any) -> str:
        label = original(self, ctx)
        return _LABELS.get(label, label)

    return display_type


def _translated_errors(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def rich_format_error(error: Any) -> None:
        english = error.format_message
        error.format_message = lambda: translate_error(english())
        original(error)

    return rich_format_error


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def install() -> None:
    """Make typer's own words Chinese. Call once, before the app runs."""
    rich_utils = _module("typer.rich_utils")
    if rich_utils is not None:
        for constant, words in _PANELS.items():
            if hasattr(rich_utils, constant):
                setattr(rich_utils, constant, words)
        if hasattr(rich_utils, "rich_format_error") and not getattr(rich_utils, "_yuqing", False):
            rich_utils.rich_format_error = _translated_errors(rich_utils.rich_format_error)
            rich_utils._yuqing = True
    core = _module("typer.core")
    parameter = getattr(core, "_TyperParameter", None)
    if parameter is not None and hasattr(parameter, "display_type") and not hasattr(parameter, "_yuqing"):
        parameter.display_type = _translated_type(parameter.display_type)
        parameter._yuqing = True
    decorators = _module("typer._click.decorators")
    if decorators is not None and hasattr(decorators, "help_option") and not hasattr(decorators, "_yuqing"):
        decorators.help_option = _translated_help_option(decorators.help_option)
        decorators._yuqing = True
    formatting = _module("typer._click.formatting")
    formatter = getattr(formatting, "HelpFormatter", None)
    if formatter is not None and not hasattr(formatter, "_yuqing"):
        formatter.write_usage = _translated_usage(formatter.write_usage)
        formatter._yuqing = True
