"""The quarterly 通报 as a Word document (`yuqing report --quarter … --out …docx`) on the demo's cases: each
unit's row the same figures as the CSV of the same command, the totals their sums, the trend charts, and an
appendix of every case counted, each with its post's id in the store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from docx import Document

from pipeline.store.sqlite import SqliteStore
from tests.helpers import office_env, run_demo, yuqing


def test_the_quarterly_bulletin_document_holds_the_same_figures_as_the_csv(tmp_path: Path) -> None:
    env = office_env(tmp_path / "var")
    run_demo(env)
    target, table_file = tmp_path / "通报.docx", tmp_path / "通报.csv"
    done = yuqing(
        "report", "--quarter", "2026Q4", "--csv", str(table_file), "--out", str(target), "--demo", env=env
    )
    assert done.returncode == 0, done.stderr
    document = Document(str(target))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[1] == "濮阳市2026年第四季度政务舆情认领回应情况通报"

    with table_file.open(encoding="utf-8-sig") as handle:
        figures = list(csv.reader(handle))[1:]
    units, appendix = document.tables
    rows = [[cell.text for cell in row.cells] for row in units.rows]
    assert rows[0][:7] == ["单位", "收到", "按时认领", "按时回应", "逾期", "申请延期", "批准延期"]
    assert [row[:7] for row in rows[1:]] == figures
    received = sum(int(row[1]) for row in figures)
    cases = [json.loads(line) for line in yuqing("cases", "--json", "--demo", env=env).stdout.splitlines()]
    overview = texts[texts.index("一、总体情况") + 1]
    assert f"共立案 {len(cases)} 件" in overview
    assert f"交办 {len(figures)} 个单位共 {received} 件次" in overview
    assert len(document.inline_shapes) == 4  # by month, county, rule category and level

    listed = [[cell.text for cell in row.cells] for row in appendix.rows][1:]
    assert sorted(row[1] for row in listed) == sorted(case["short_id"] for case in cases)
    store = SqliteStore(tmp_path / "var" / "demo" / "store" / "posts.sqlite3", read_only=True)
    try:
        assert all(store.get(row[7]) is not None for row in listed)
    finally:
        store.close()


def test_any_period_gives_the_evidence_pack_with_every_cases_steps(tmp_path: Path) -> None:
    env = office_env(tmp_path / "var")
    run_demo(env)
    target = tmp_path / "评估材料.docx"
    done = yuqing(
        "report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(target), "--demo", env=env
    )
    assert done.returncode == 0, done.stderr
    texts = [p.text for p in Document(str(target)).paragraphs if p.text]
    assert texts[1] == "濮阳市2026年11月1日至2026年11月30日政务舆情认领回应情况通报"
    steps = texts[texts.index("附件二：各案件办理经过") + 1 :]
    cases = [json.loads(line) for line in yuqing("cases", "--json", "--demo", env=env).stdout.splitlines()]
    for case in cases:
        at = next(i for i, line in enumerate(steps) if f"案件 {case['short_id']}「" in line)
        assert " 立案（系统）" in steps[at + 1]  # each case's first recorded step under it
    both = yuqing("report", "--quarter", "2026Q4", "--from", "2026-11-01", "--to", "2026-11-30", env=env)
    assert both.returncode == 2
    assert "二者选一" in both.stderr


def test_the_records_as_pdf_render_and_an_empty_period_says_so(tmp_path: Path) -> None:
    import subprocess

    env = office_env(tmp_path / "var")
    run_demo(env)
    event = next(
        json.loads(line)["alerts"][0].split("@")[0]
        for line in yuqing("cases", "--json", "--demo", env=env).stdout.splitlines()
        if json.loads(line)["level"] == "重大突发事态"
    )
    for args, title in (
        (("report", "special", event), "濮阳市政务舆情专报"),
        (("report", "quarterly", "--quarter", "2026Q4"), "政务舆情认领回应情况通报"),
        (("report", "daily"), "濮阳市政务舆情日志"),
    ):
        target = tmp_path / f"{args[1]}.pdf"
        done = yuqing(*args, "--out", str(target), "--demo", env=env)
        assert done.returncode == 0, done.stderr
        text = subprocess.run(
            ["pdftotext", str(target), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert title in text.replace("\n", "")
        # Rendered to an image, as a person checks it: page 1 has ink on it.
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(target), str(tmp_path / args[1])],
            check=True,
        )
        (page,) = tmp_path.glob(f"{args[1]}-*1.png")
        assert page.stat().st_size > 5_000

    empty = tmp_path / "empty.docx"
    done = yuqing("report", "--quarter", "2026Q1", "--out", str(empty), "--demo", env=env)
    assert done.returncode == 0, done.stderr
    texts = [p.text for p in Document(str(empty)).paragraphs if p.text]
    assert "本期无交办案件。" in texts
    assert "本期无立案，无态势可述。" in texts
