"""Runs the offline stages outside a crawl (for `yuqing analyze` and `yuqing route`), in the order
ITEM_PIPELINES declares: the same stages as a patrol, so the same event joining and the same routing."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from config import settings as project_settings
from pipeline import clock
from pipeline.context import Context
from pipeline.items import Post, describe_value, post_from_dict
from pipeline.stages.base import Drop, Stage, StagePipeline

logger = logging.getLogger(__name__)


def stage_classes(*, offline_only: bool) -> list[type[Stage]]:
    # Read as Scrapy orders ITEM_PIPELINES (by number; None switches one off), without importing Scrapy:
    # it would double the start-up of a command that crawls nothing.
    pipelines = project_settings.ITEM_PIPELINES
    classes: list[type[Stage]] = []
    for path in sorted((p for p, order in pipelines.items() if order is not None), key=pipelines.__getitem__):
        module, _, name = path.rpartition(".")
        pipeline_class = getattr(importlib.import_module(module), name)
        if isinstance(pipeline_class, type) and issubclass(pipeline_class, StagePipeline):
            stage = pipeline_class.stage_class
            if stage.offline or not offline_only:
                classes.append(stage)
    return classes


class OfflineRunner:
    def __init__(self, context: Context) -> None:
        self.stages = [cls.for_analysis(context) for cls in stage_classes(offline_only=True)]

    def run(self, post: Post) -> Post:
        """Every offline stage in order; a `Drop` from one (e.g. an invalid post) propagates."""
        for stage in self.stages:
            post = stage(post)
        return post


# A JSON line longer than this is refused (and skipped to its end without being held in memory); the text
# analysed of a post is capped far below it (severity.yaml `max_text_chars`).
MAX_LINE_BYTES = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class LineTooLong:
    size: int  # bytes, without the newline


def read_lines(stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | LineTooLong]:
    """The lines of a byte stream, newline removed; a line over `max_bytes` is read to its end without being
    kept, and given as `LineTooLong`, so one endless line costs neither memory nor the lines after it."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
            continue
        if len(line) <= max_bytes:  # the last line, with no newline
            yield line
            return
        size = len(line)
        while True:
            rest = stream.readline(_CHUNK)
            size += len(rest)
            if not rest or rest.endswith(b"\n"):
                break
        yield LineTooLong(size - rest.endswith(b"\n"))


def _input_lines(lines: Iterable[str | bytes] | IO[Any]) -> Iterator[bytes | str | LineTooLong]:
    # A text stream such as `sys.stdin` is read through its bytes: its own decoding would fail the whole
    # input at the first byte that is not UTF-8, and read a line of any length into memory.
    stream = getattr(lines, "buffer", lines)
    if hasattr(stream, "readline") and isinstance(stream.read(0), bytes):
        return read_lines(stream)
    return iter(lines)


class BadLine(ValueError):
    """An input line that cannot be read as one post; the message (in Chinese) says why."""


def decode_line(line: bytes) -> str:
    """A line as text; raises BadLine naming the byte offset of the first byte that is not UTF-8."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = line[exc.start : exc.start + 1].hex()
        raise BadLine(f"不是有效的 UTF-8 文本：字节偏移 {exc.start} 处为 0x{bad}") from None


def parse_line(line: str | bytes) -> dict[str, Any]:
    """One JSON object from one line; BadLine for anything else."""
    text = decode_line(line) if isinstance(line, bytes) else line
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadLine("JSON 嵌套层数过多，无法解析") from None
    except ValueError as exc:
        detail = f"{exc.msg}，第 {exc.colno} 列" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise BadLine(f"不是有效的 JSON（{detail}）") from None
    if not isinstance(data, dict):
        raise BadLine(f"应为一个 JSON 对象（{{...}}），收到{describe_value(data)}")
    return data


def run_json_lines(
    lines: Iterable[str | bytes] | IO[Any], runner: OfflineRunner, name: str
) -> Iterator[tuple[int, Post | str]]:
    """Posts given as JSON lines (the analysts' input to `analyze` and `route`) through the offline stages:
    for each non-blank line, its number and the analysed post, or an error in Chinese naming the line and
    what is wrong with it; a bad line costs only itself. A stream (stdin) is read as bytes and each line
    decoded on its own. A missing id, url or time gets a stand-in, so a bare `{"text": ...}` is enough."""
    for number, line in enumerate(_input_lines(lines), start=1):
        outcome: Post | str
        try:
            if isinstance(line, LineTooLong):
                raise BadLine(f"长 {line.size:,} 字节，超过每行上限 {MAX_LINE_BYTES:,} 字节，已跳过")
            if number == 1 and isinstance(line, bytes):
                line = line.removeprefix(_BOM)  # as Windows editors save UTF-8
            if not line.strip():
                continue
            data = parse_line(line)
            post = post_from_dict(
                data,
                stand_in_id=f"{name}:{number}",
                stand_in_url=f"https://{name}.invalid/{number}",
                now=clock.now(),
            )
            outcome = runner.run(post)
        except (ValueError, Drop) as exc:
            outcome = f"第 {number} 行：{exc}"
        except Exception as exc:  # a fault on one post must not lose the lines after it
            logger.exception("%s line %d: the analysis failed", name, number)
            outcome = f"第 {number} 行：分析时出错（{type(exc).__name__}: {exc}），属程序缺陷，请报告"
        yield number, outcome


__all__ = ["Drop", "OfflineRunner", "read_lines", "run_json_lines", "stage_classes"]
