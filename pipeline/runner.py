"""Runs the offline stages outside a crawl (for `yuqing analyze` and `yuqing route`), in the order
ITEM_PIPELINES declares: the same stages as a patrol, so the same event joining and the same routing."""

from __future__ import annotations

import gc
import importlib
import io
import json
import logging
import os
import select
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, BinaryIO

import orjson

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

    def run_batch(self, posts: list[Post]) -> list[Post | Exception]:
        """`run` on each post, in order, but stage by stage over the whole batch (and within a stage, step
        by step: `Stage.run_batch`): a fifth faster on short posts, as each stage's tables stay in the
        processor's caches from one post to the next. The results are `run`'s, as only the event stage
        keeps anything from post to post and it still sees the posts in order. A post that a stage drops
        or fails on leaves the batch as its exception."""
        outcomes: list[Post | Exception] = list(posts)
        for stage in self.stages:
            stage.run_batch(outcomes)
        return outcomes


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


class ArrivingLines:
    """The lines of a pipe or a terminal, as `read_lines` gives them, read into a buffer of its own so that
    `arrived` can tell, without waiting, whether the next line is there already: `cat posts.jsonl | yuqing
    analyze` then gets its lines in batches, as a file does (taken one by one, they ran at three fifths of
    the speed), while a line typed at a terminal is answered alone, as soon as it is entered. (A producer
    that writes part of a line and stops holds back the answers read with it until it writes the rest.)"""

    def __init__(self, stream: Any, max_bytes: int = MAX_LINE_BYTES) -> None:
        self._stream = stream  # buffered: `read1` returns what it holds, else waits for one read
        self._max = max_bytes
        self._held = bytearray()  # deleting from its front moves nothing

    def arrived(self) -> bool:
        """Whether the next line can be read without waiting: it is held here, or more has come in."""
        if b"\n" in self._held:
            return True
        try:
            return bool(select.select([self._stream], [], [], 0)[0])
        except (OSError, ValueError, TypeError):  # not a stream select can wait on: a line at a time
            return False

    def __iter__(self) -> Iterator[bytes | LineTooLong]:
        held = self._held
        while True:
            end = held.find(b"\n")
            if end >= 0:
                line = bytes(held[:end]) if end <= self._max else LineTooLong(end)
                del held[: end + 1]
                yield line
                continue
            if len(held) > self._max:
                yield LineTooLong(self._skip_line())
                continue
            # All the stream holds (far more than its own buffer), so that what is left is in the pipe,
            # where `select` sees it.
            more = self._stream.read1(_CHUNK)
            if not more:
                if held:  # the last line, with no newline
                    yield bytes(held)
                return
            held += more

    def _skip_line(self) -> int:
        """Reads the line too long to keep to its end, keeping what follows it; returns its size in bytes."""
        held = self._held
        size = len(held)
        held.clear()
        while more := self._stream.read1(_CHUNK):
            end = more.find(b"\n")
            if end >= 0:
                held += more[end + 1 :]
                return size + end
            size += len(more)
        return size


def _input_lines(
    lines: Iterable[str | bytes] | IO[Any],
) -> tuple[Iterator[bytes | str | LineTooLong], Callable[[], bool]]:
    """The lines, and what tells whether the next one is there already (always, for a file, bytes in
    memory or a list; for a pipe or a terminal, `ArrivingLines.arrived`), so that waiting for a batch of
    them never waits on someone still typing or a producer still writing."""
    # A text stream such as `sys.stdin` is read through its bytes: its own decoding would fail the whole
    # input at the first byte that is not UTF-8, and read a line of any length into memory.
    stream: Any = getattr(lines, "buffer", lines)  # whatever it is, it is asked what it can do
    if hasattr(stream, "readline") and isinstance(stream.read(0), bytes):
        try:
            complete = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
        except (OSError, ValueError):  # no file behind it (io.UnsupportedOperation is an OSError)
            return read_lines(stream), _always if isinstance(stream, io.BytesIO) else _never
        if complete:
            return read_lines(stream), _always
        if not hasattr(stream, "read1"):
            return read_lines(stream), _never
        arriving = ArrivingLines(stream)
        return iter(arriving), arriving.arrived
    return iter(lines), _always if isinstance(lines, list | tuple) else _never


def _always() -> bool:
    return True


def _never() -> bool:
    return False


# A batch of lines that are all there already: enough posts for the stages to run fast over them, few
# enough bytes that holding them at once costs little memory. Each step of each stage brings its tables
# (the dictionary, the automata, the weights) back into the processor's caches once per batch: batches of
# 2,048 Weibo-length posts ran 6% faster than batches of 256 over 4,095 posts (and no faster at 4,096), for
# 33 MB more at the peak (175 MB against 142).
BATCH_LINES = 2048
BATCH_BYTES = 4 * 1024 * 1024


def _batches(
    lines: Iterator[bytes | str | LineTooLong], more_arrived: Callable[[], bool]
) -> Iterator[list[tuple[int, bytes | str | LineTooLong]]]:
    """The numbered lines in batches; a batch ends where the next line has not arrived yet, so each answer
    comes as soon as its line."""
    batch: list[tuple[int, bytes | str | LineTooLong]] = []
    size = 0
    for number, line in enumerate(lines, start=1):
        batch.append((number, line))
        size += 0 if isinstance(line, LineTooLong) else len(line)
        if len(batch) >= BATCH_LINES or size >= BATCH_BYTES or not more_arrived():
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


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
    # orjson reads a line five times as fast as `json`, and its answer is taken when every field is text, as
    # most lines are: there the two agree. Elsewhere they need not (orjson reads an integer past 64 bits as
    # a float, and refuses NaN and escaped lone surrogates), so `json` reads the line, and says what is wrong.
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    else:
        if type(data) is dict:
            # A loop over the values, compiled: the set of their types cost as much as orjson's reading.
            fields: dict[str, Any] = data
            if all(type(value) is str for value in fields.values()):
                return fields
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
    for batch in run_json_batches(lines, runner, name):
        yield from batch


# Containers allocated (net) between two runs of the cyclic collector while lines are analysed: more than a
# whole batch holds (some forty a post), so that the collector never scans a batch still in the stages. At
# 50,000 it scanned every batch of 2,048 short posts once, a twentieth of their analysis, to find nothing.
_GC_THRESHOLD = 250_000


def run_json_batches(
    lines: Iterable[str | bytes] | IO[Any], runner: OfflineRunner, name: str
) -> Iterator[list[tuple[int, Post | str]]]:
    """`run_json_lines`'s answers, a batch of lines at a time: lines that were all there already come
    together (their answers can be written at once), a line still being typed comes alone."""
    # What exists before the first line (the office's dictionaries, automata and rules, built once) is
    # set aside from the cyclic collector while the lines run: its passes over them, again and again as
    # posts come and go, cost a tenth of the analysis.
    gc.freeze()
    # A post leaves some forty containers behind it (its analysis, the event store's row and index): at
    # the default threshold of 700 the collector ran every score of posts, and its younger generations,
    # scanned again and again, cost a sixteenth of the analysis. Posts form no cycles, so letting more
    # accumulate first costs no memory; refcounting frees the rest as ever.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], _GC_THRESHOLD), *thresholds[1:])
    try:
        yield from _run_batches(lines, runner, name)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_batches(
    lines: Iterable[str | bytes] | IO[Any], runner: OfflineRunner, name: str
) -> Iterator[list[tuple[int, Post | str]]]:
    for batch in _batches(*_input_lines(lines)):
        read: list[tuple[int, Post | str]] = []
        now = clock.now()  # the stand-in time of the lines read together: they arrived together
        for number, line in batch:
            try:
                read.append((number, _read_post(number, line, name, now)))
            except _Blank:
                continue
            except Exception as exc:  # noqa: BLE001 - answered (and, if a fault, logged) by `_outcome`
                read.append((number, _outcome(number, exc, name)))
        posts = [post for _, post in read if isinstance(post, Post)]
        analysed = iter(runner.run_batch(posts))
        yield [
            (number, post if isinstance(post, str) else _outcome(number, next(analysed), name))
            for number, post in read
        ]


class _Blank(Exception):
    """A blank line: skipped, with no answer."""


def _read_post(number: int, line: bytes | str | LineTooLong, name: str, now: datetime) -> Post:
    """The post of one input line; a ValueError (BadLine among them) says why there is none."""
    if isinstance(line, LineTooLong):
        raise BadLine(f"长 {line.size:,} 字节，超过每行上限 {MAX_LINE_BYTES:,} 字节，已跳过")
    if number == 1 and isinstance(line, bytes):
        line = line.removeprefix(_BOM)  # as Windows editors save UTF-8
    if not line.strip():
        raise _Blank
    return post_from_dict(
        parse_line(line),
        stand_in_id=f"{name}:{number}",
        stand_in_url=f"https://{name}.invalid/{number}",
        now=now,
    )


def _outcome(number: int, outcome: Post | Exception, name: str) -> Post | str:
    """The analysed post, or what went wrong with it as its answer line says it."""
    if isinstance(outcome, Post):
        return outcome
    if isinstance(outcome, ValueError | Drop):
        return f"第 {number} 行：{outcome}"
    # A fault on one post must not lose the lines after it.
    logger.error("%s 第 %d 行：分析出错", name, number, exc_info=outcome)
    return f"第 {number} 行：分析时出错（{type(outcome).__name__}: {outcome}），属程序缺陷，请报告"


__all__ = [
    "ArrivingLines",
    "Drop",
    "OfflineRunner",
    "read_lines",
    "run_json_batches",
    "run_json_lines",
    "stage_classes",
]
