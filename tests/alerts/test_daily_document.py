"""The day's 舆情日志 as a Word document (`yuqing log --out …docx`), on the demo's cases: the 公文 layout
(A4, GB/T 9704 margins, the fonts by their official names, Chinese as the document language), every case
of the day in it with a figure that counts exactly them, every post it names in the appendix with its id in
the store, and a zero report for a day with nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline.store.sqlite import SqliteStore
from tests.helpers import office_env, run_demo, yuqing


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = office_env(tmp_path_factory.mktemp("log") / "var")
    run_demo(env)
    return env


def written(env: dict[str, str], tmp: Path, *options: str):
    target = tmp / "日志.docx"
    done = yuqing("log", "--demo", "--out", str(target), *options, env=env)
    assert done.returncode == 0, done.stderr
    assert f"已写入 {target}" in done.stderr
    return Document(str(target))


def east_asian_font(paragraph) -> str:
    return paragraph.runs[0]._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_the_days_log_is_a_filed_document_whose_figures_are_its_cases(
    demo: dict[str, str], tmp_path: Path
) -> None:
    document = written(demo, tmp_path)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    languages = document.styles.element.find(qn("w:docDefaults")).iter(qn("w:lang"))
    assert {lang.get(qn("w:eastAsia")) for lang in languages} == {"zh-CN"}

    paragraphs = [p for p in document.paragraphs if p.text]
    texts = [p.text for p in paragraphs]
    assert texts[:3] == ["内部资料　注意保存", "濮阳市政务舆情日志", "2026年第327期"]
    assert east_asian_font(paragraphs[1]) == "方正小标宋简体"
    assert paragraphs[1].runs[0].font.size.pt == 22
    heading = paragraphs[texts.index("一、总体情况")]
    assert east_asian_font(heading) == "黑体"
    assert east_asian_font(paragraphs[texts.index("一、总体情况") + 1]) == "仿宋_GB2312"

    # The overview counts the cases the log lists, which are the day's cases.
    cases = [json.loads(line) for line in yuqing("cases", "--json", "--demo", env=demo).stdout.splitlines()]
    listed = [t for t in texts if t.startswith("（") and "】" in t]
    assert len(listed) == len(cases) > 0
    overview = texts[texts.index("一、总体情况") + 1]
    assert f"新增涉本地政务舆情 {len(cases)} 件" in overview
    major = sum(1 for c in cases if c["level"] == "重大突发事态")
    assert f"重大突发事态 {major} 件" in overview
    assert f"待认领 {len(cases)} 件" in overview  # at the demo's 09:00 nothing is claimed yet

    # Every post it names is in the appendix, with its id in the store.
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "标题", "来源", "发现时间", "链接", "信息编号"]
    assert len(rows) == len(cases) + 1
    store = SqliteStore(Path(demo["YUQING_DATA_DIR"]) / "demo" / "store" / "posts.sqlite3", read_only=True)
    try:
        for row in rows[1:]:
            post = store.get(row[5])
            assert post is not None, row
            assert post["url"] == row[4]
    finally:
        store.close()
    assert any(t.startswith("三、巡查签收") for t in texts)
    assert any("个信息源" in t for t in texts)


def test_a_day_with_nothing_is_a_zero_report(demo: dict[str, str], tmp_path: Path) -> None:
    document = written(demo, tmp_path, "--date", "2026-11-01")
    texts = [p.text for p in document.paragraphs if p.text]
    assert "11月1日无新增涉本地政务舆情。" in texts[texts.index("一、总体情况") + 1]
    assert "当日无新增涉本地政务舆情（零报告）。" in texts
    (table,) = document.tables
    assert table.rows[1].cells[0].text == "无"


def test_only_a_word_or_pdf_file_is_written(demo: dict[str, str], tmp_path: Path) -> None:
    done = yuqing("log", "--demo", "--out", str(tmp_path / "日志.txt"), env=demo)
    assert done.returncode == 2
    assert "可存为 Word 文档（.docx）或 PDF（.pdf）" in done.stderr
    assert not (tmp_path / "日志.txt").exists()


def test_a_units_own_log_holds_its_cases_only(demo: dict[str, str], tmp_path: Path) -> None:
    unit = "范县县委宣传部"
    document = written(demo, tmp_path, "--unit", unit)
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[1] == f"{unit}政务舆情日志"
    cases = [json.loads(line) for line in yuqing("cases", "--json", "--demo", env=demo).stdout.splitlines()]
    own = [c for c in cases if unit in json.dumps(c, ensure_ascii=False)]
    assert 0 < len(own) < len(cases)
    (table,) = document.tables
    assert len(table.rows) == len(own) + 1
    assert not any(t.startswith("三、巡查签收") for t in texts)  # the office's sections are the office's
    wrong = yuqing("log", "--demo", "--unit", "范县宣传部", env=demo)
    assert wrong.returncode == 2
    assert "没有这个单位，是否是 范县县委宣传部" in wrong.stderr


def test_the_log_as_pdf_embeds_its_chinese_fonts(demo: dict[str, str], tmp_path: Path) -> None:
    import subprocess

    target = tmp_path / "日志.pdf"
    done = yuqing("log", "--demo", "--out", str(target), env=demo)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
    assert "濮阳市政务舆情日志" in text
    assert "一、总体情况" in text
    fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    cjk = [row for row in rows if "CJK" in row[0]]
    assert cjk
    assert all(row[-5] == "yes" for row in rows)  # every font embedded
