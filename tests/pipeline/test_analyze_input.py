"""Bad input to `yuqing analyze` and `yuqing route` costs its own line and nothing else: each line is read
as bytes, decoded, parsed and checked against the input schema on its own, with a Chinese error naming the
line and the field; a text too long to analyse is cut to the cap and says so."""

from __future__ import annotations

import gc
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from config.env import PROJECT_ROOT, get_env
from config.loader import DEFAULT_DIR, load_config
from pipeline.context import Context
from pipeline.items import SHANGHAI, AuthorKind, Counts, Post, Source, post_from_dict, to_dict
from pipeline.runner import (
    MAX_LINE_BYTES,
    ArrivingLines,
    BadLine,
    OfflineRunner,
    parse_line,
    read_lines,
    run_json_batches,
)
from pipeline.stages.clean import CleanStage

YUQING = Path(sys.executable).with_name("yuqing")
GOOD = {"text": "清丰县一小区停暖多日，居民投诉没人管"}
GOOD_LINE = json.dumps(GOOD, ensure_ascii=False).encode("utf-8")
RIVER = "濮阳县柳屯镇一化工厂夜间向河道偷排废水，河水发黑发臭，村民投诉无人管。"


def run(command: str, stdin: bytes, **env: str) -> tuple[list[dict], str]:
    """The command in its own process, as an analyst runs it; its JSON lines and its stderr."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    environment.update(env)
    done = subprocess.run(
        [str(YUQING), command],
        input=stdin,
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        timeout=300,
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()], stderr


def lines(*items: bytes) -> bytes:
    return b"\n".join(items) + b"\n"


def test_fields_of_the_wrong_type_are_named_and_the_lines_after_them_analysed() -> None:
    outs, stderr = run(
        "analyze",
        lines(
            GOOD_LINE,
            b'{"text":"x","media":5}',
            b'{"text":123}',
            b'{"text":"x","title":7}',
            b'{"text":"x","counts":{"comments":-3}}',
            b'{"text":"x","published_at":"yesterday"}',
            GOOD_LINE,
        ),
    )
    assert [o["line"] for o in outs] == [1, 2, 3, 4, 5, 6, 7]
    assert [o.get("error") for o in outs[1:6]] == [
        "第 2 行：字段 media 应为字符串，收到整数 5",
        "第 3 行：字段 text 应为字符串，收到整数 123",
        "第 4 行：字段 title 应为字符串，收到整数 7",
        "第 5 行：字段 counts.comments 应为非负整数，收到整数 -3",
        '第 6 行：字段 published_at 不是 ISO 8601 时间，应写作 2026-11-23T09:00:00+08:00，收到字符串 "yesterday"',
    ]
    for out in (outs[0], outs[6]):
        assert "error" not in out
        assert out["territory"]["counties"] == ["清丰县"]
    assert "5 行未能分析" in stderr


def test_deeply_nested_brackets_are_one_line_error() -> None:
    outs, _ = run("analyze", lines(b"[" * 100_000, GOOD_LINE))
    assert outs[0] == {"line": 1, "error": "第 1 行：JSON 嵌套层数过多，无法解析"}
    assert outs[1]["territory"]["counties"] == ["清丰县"]


def test_bytes_that_are_not_utf8_cost_their_line_under_a_strict_utf8_locale() -> None:
    outs, _ = run(
        "analyze",
        lines('{"text":"濮阳县'.encode() + b"\xff\xfe" + b'"}', GOOD_LINE),
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8:strict",
    )
    assert outs[0] == {"line": 1, "error": "第 1 行：不是有效的 UTF-8 文本：字节偏移 18 处为 0xff"}
    assert outs[1]["territory"]["counties"] == ["清丰县"]


def test_a_line_over_the_line_limit_is_skipped_without_losing_the_next() -> None:
    huge = b'{"text":"' + b"a" * MAX_LINE_BYTES + b'"}'
    outs, _ = run("analyze", lines(huge, GOOD_LINE))
    assert outs[0]["error"] == (
        f"第 1 行：长 {len(huge):,} 字节，超过每行上限 {MAX_LINE_BYTES:,} 字节，已跳过"
    )
    assert outs[1]["territory"]["counties"] == ["清丰县"]


def test_a_long_text_is_analysed_up_to_the_cap_and_says_so(tmp_path: Path) -> None:
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    severity = office / "severity.yaml"
    severity.write_text(
        severity.read_text(encoding="utf-8").replace("max_text_chars: 20000", "max_text_chars: 5000"),
        encoding="utf-8",
    )
    long_text = RIVER * (60_000 // len(RIVER))
    outs, stderr = run(
        "analyze",
        lines(json.dumps({"text": long_text}, ensure_ascii=False).encode(), GOOD_LINE),
        YUQING_CONFIG_DIR=str(office),
    )
    assert outs[0]["truncated"]["analysed"] == 5000
    assert outs[0]["truncated"]["total"] == len(long_text)
    assert "只分析并保存了前 5,000 字" in outs[0]["truncated"]["note"]
    assert outs[0]["territory"]["counties"] == ["濮阳县"]
    assert outs[1]["truncated"] is None
    assert "1 行文字超过 5,000 字" in stderr


def test_route_reads_its_input_the_same_way() -> None:
    outs, _ = run(
        "route",
        lines(b'{"text":"x","media":5}', b"[" * 100_000, GOOD_LINE),
        YUQING_NOW="2026-11-23T10:00:00+08:00",
    )
    assert outs[0]["error"] == "第 1 行：字段 media 应为字符串，收到整数 5"
    assert outs[1]["error"] == "第 2 行：JSON 嵌套层数过多，无法解析"
    assert outs[2]["counties"] == ["清丰县"]


@pytest.mark.parametrize("source", [Source.SINA, Source.WEIBO])
def test_a_crawled_post_is_capped_in_the_clean_stage(source: Source) -> None:
    office = load_config()
    cap = office.severity.max_text_chars
    moment = datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
    text = RIVER * (3 * cap // len(RIVER))
    post = Post(
        id=f"{source}:1",
        source=source,
        url="https://example.cn/1",
        title="濮阳县一化工厂被指偷排",
        text=text,
        published_at=moment,
        crawled_at=moment,
    )
    cleaned = CleanStage(Context(office=office, env=get_env()))(post)
    assert len(cleaned.title or "") + len(cleaned.text) == cap
    assert cleaned.analysis.truncated is not None
    assert (cleaned.analysis.truncated.analysed, cleaned.analysis.truncated.total) == (
        cap,
        len(text) + len("濮阳县一化工厂被指偷排"),
    )


def test_a_file_gets_the_answers_a_pipe_gets(tmp_path: Path) -> None:
    # A file is read in batches, a pipe line by line: the answers, bad lines and joined events among
    # them, must not depend on it.
    given = lines(
        GOOD_LINE,
        b"",
        b"not json",
        json.dumps({"text": RIVER}, ensure_ascii=False).encode(),
        b'{"text": 5}',
        json.dumps({"text": RIVER + "已经三天了"}, ensure_ascii=False).encode(),
    )
    path = tmp_path / "posts.jsonl"
    path.write_bytes(given)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    with path.open("rb") as stdin:
        from_file = subprocess.run(
            [str(YUQING), "analyze"],
            stdin=stdin,
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            check=False,
        )
    from_pipe, _ = run("analyze", given)
    answers = [json.loads(line) for line in from_file.stdout.decode("utf-8").splitlines()]
    assert answers == from_pipe
    assert [a["line"] for a in answers] == [1, 3, 4, 5, 6]
    assert "error" in answers[1]
    assert "归入事件" in answers[4]["severity"]["reasons"][-1]


def test_a_piped_line_is_answered_before_the_next_is_written() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    process = subprocess.Popen(
        [str(YUQING), "analyze"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=environment,
    )
    try:
        for number in (1, 2):
            process.stdin.write(GOOD_LINE + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, f"no answer to line {number} while the input stays open"
            assert json.loads(process.stdout.readline())["line"] == number
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def test_lines_already_waiting_in_a_pipe_are_answered_together_without_waiting_for_more() -> None:
    # `cat posts.jsonl | yuqing analyze`: the lines the pipe holds are one batch, and the batch does not
    # wait for the writer, still open, to write another line or to close.
    runner = OfflineRunner(Context(office=load_config(DEFAULT_DIR), env=get_env()))
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader, os.fdopen(write_end, "wb") as writer:
        writer.write(lines(GOOD_LINE, b"not json", GOOD_LINE, GOOD_LINE))
        writer.flush()
        batches = run_json_batches(reader, runner, "analyze")
        first: list = []
        worker = threading.Thread(target=lambda: first.extend(next(batches)), daemon=True)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the lines in the pipe waited for more input"
        assert [number for number, _ in first] == [1, 2, 3, 4]
        assert isinstance(first[1][1], str)
        assert all(isinstance(post, Post) for _, post in first[::2])
        writer.write(lines(GOOD_LINE))
        writer.flush()
        assert [number for number, _ in next(batches)] == [5]
        writer.close()
        assert list(batches) == []


@pytest.mark.parametrize(
    "given",
    [
        b"12345\n123456\nabcdefghijk\nok\nxy",  # at the limit, over it, far over it, the last with no newline
        b"123456789012345678901234567890\n",  # over the limit and over the first read alone
        b"\n\nok\n",
        b"",
    ],
)
def test_lines_read_from_a_pipe_are_those_a_file_gives(given: bytes) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader:
        with os.fdopen(write_end, "wb") as writer:
            writer.write(given)
        assert list(ArrivingLines(reader, max_bytes=5)) == list(read_lines(io.BytesIO(given), max_bytes=5))


def test_lines_all_there_are_answered_as_one_batch_and_the_collector_is_left_as_found() -> None:
    # Answers to lines read together are written together; the collector's thresholds, raised while the
    # lines run, and its frozen objects come back as they were, even when the reader stops early.
    thresholds = gc.get_threshold()
    runner = OfflineRunner(Context(office=load_config(DEFAULT_DIR), env=get_env()))
    given = lines(GOOD_LINE, b"", b"not json", GOOD_LINE)
    batches = list(run_json_batches(io.BytesIO(given), runner, "analyze"))
    assert [[number for number, _ in batch] for batch in batches] == [[1, 3, 4]]
    assert isinstance(batches[0][1][1], str)
    assert isinstance(batches[0][2][1], Post)
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
    stopped = run_json_batches(io.BytesIO(given), runner, "analyze")
    next(stopped)
    assert gc.get_threshold()[0] > thresholds[0]
    stopped.close()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_a_bare_text_and_a_full_record_both_make_the_post_they_describe() -> None:
    now = datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
    bare = post_from_dict(GOOD, stand_in_id="analyze:1", stand_in_url="https://analyze.invalid/1", now=now)
    assert bare == Post(
        id="analyze:1",
        source=Source.LOCAL,
        url="https://analyze.invalid/1",
        text=GOOD["text"],
        published_at=now,
        crawled_at=now,
    )
    full = Post(
        id="weibo:42",
        source=Source.WEIBO,
        url="https://m.weibo.cn/detail/42",
        text=RIVER,
        title="偷排",
        author="某网友",
        author_kind=AuthorKind.VERIFIED,
        media="微博",
        published_at=now,
        crawled_at=now,
        counts=Counts(reposts=1, comments=2, likes=3, reads=4),
        ip_location="河南",
        author_location="河南 濮阳",
        parent_id="weibo:41",
        repost_of="weibo:40",
        images=["https://wx1.sinaimg.cn/large/a.jpg"],
        has_video=True,
        raw_ref="weibo/42.json",
    )
    assert post_from_dict(to_dict(full), stand_in_id="x", stand_in_url="https://x.invalid/", now=now) == full
    # One optional field given alone still leaves the others at the Post's defaults.
    titled = post_from_dict({"title": "偷排"}, stand_in_id="x", stand_in_url="https://x.invalid/", now=now)
    assert (titled.title, titled.text, titled.counts, titled.images) == ("偷排", "", Counts(), [])


@pytest.mark.parametrize(
    "text",
    [
        GOOD["text"],
        RIVER,
        "  前后有空格  ",
        "一行\n两行",
        "半个表情\ud83d后",
        "emoji 😀 与 [怒]",
        "\u3000全角空格",
    ],
)
def test_a_bare_text_line_makes_the_post_the_input_schema_would(text: str) -> None:
    """Most lines are a bare {"text": ...}, read without building the input schema's model: the post is the
    one the schema gives, stand-ins, times and a lone surrogate's replacement alike."""
    from pipeline.items import PostInput

    now = datetime(2026, 12, 4, 9, 30, tzinfo=SHANGHAI)
    quick = post_from_dict(
        {"text": text}, stand_in_id="analyze:3", stand_in_url="https://analyze.invalid/3", now=now
    )
    checked = PostInput.model_validate({"text": text}).to_post(
        stand_in_id="analyze:3", stand_in_url="https://analyze.invalid/3", now=now
    )
    assert to_dict(quick) == to_dict(checked)
    assert "\ud83d" not in quick.text


@pytest.mark.parametrize(
    "line",
    [
        GOOD_LINE,
        b'{"text": "a", "title": "b", "text": "c"}',
        b'{"text": "\\ud83d \xe5\x8d\x8a"}',  # an escaped lone surrogate
        b'{"text": "a", "counts": {"likes": 123456789012345678901234567890}}',
        b'{"text": "a", "counts": {"likes": 1e400}}',
        b'{"text": NaN}',
        b'{"text": "a", "published_at": null}',
    ],
)
def test_every_line_is_read_as_json_reads_it(line: bytes) -> None:
    """Lines are read by a faster parser where it agrees with `json` (every field text) and by `json` where it
    may not: numbers past 64 bits stay integers, NaN and 1e400 are read, escaped lone surrogates kept."""
    read, expected = parse_line(line), json.loads(line.decode("utf-8"))
    assert json.dumps(read) == json.dumps(expected)
    assert [type(v) for v in read.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b'{"text": "a"', "不是有效的 JSON（Expecting ',' delimiter，第 13 列）"),
        (b'["text"]', "应为一个 JSON 对象"),
        (b'{"text": "\xff"}', "不是有效的 UTF-8 文本：字节偏移 10 处为 0xff"),
        (b'{"text": "a"} x', "不是有效的 JSON（Extra data，第 15 列）"),
    ],
)
def test_a_line_that_is_no_json_object_says_why_as_json_would(line: bytes, says: str) -> None:
    with pytest.raises(BadLine, match=re.escape(says)):
        parse_line(line)


@pytest.mark.parametrize("data", [{"text": "   "}, {"text": 5}, {"text": None}])
def test_a_bare_text_line_that_says_nothing_is_still_refused(data: dict) -> None:
    with pytest.raises(ValueError, match="text"):
        post_from_dict(data, stand_in_id="analyze:1", stand_in_url="https://analyze.invalid/1")
