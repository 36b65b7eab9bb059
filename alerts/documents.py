"""The daily 舆情日志 as a Word document an office files, in the 公文 layout of GB/T 9704-2012 (A4, its
margins, 三号仿宋 body, 二号小标宋 title, 黑体 and 楷体 headings, `— 1 —` page numbers).

Every figure in it is counted from the cases and sign-offs the log lists, and every post it names is in its
appendix with its source, time, link and id in the store. A day with nothing to report is a zero report.
The fonts are written by the names government PCs have (仿宋_GB2312 …), with the open faces that stand in
for them elsewhere named as alternatives.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from alerts.calendar import SHANGHAI
from alerts.records import LogEntry, deadline_summary
from alerts.signoffs import Checkpoint
from classifiers.types import Level

# GB/T 9704-2012: A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm.
MARGINS = {"top": 37, "bottom": 35, "left": 28, "right": 26}
FANGSONG, HEITI, KAITI, TITLE, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
SIZE_2, SIZE_3, SIZE_4 = Pt(22), Pt(16), Pt(14)
NUMERALS = "一二三四五六七八九十"
RED = RGBColor(0xC0, 0x00, 0x00)


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One source's health as the day's log reports it."""

    name: str
    verdict: str  # 正常 / 故障：… / 注意：…


def daily_log_docx(
    *,
    office: str,
    issuer: str,
    day: date,
    log: dict[Level, list[LogEntry]],
    checkpoints: Sequence[Checkpoint],
    sources: Sequence[SourceLine],
    now: datetime,
) -> bytes:
    """The day's 舆情日志 as .docx bytes."""
    document = Document()
    _page(document)
    entries = [entry for level in log for entry in log[level]]

    _line(document, "内部资料　注意保存", HEITI, SIZE_3)
    _line(
        document,
        f"{office}政务舆情日志",
        TITLE,
        SIZE_2,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space=12,
        colour=RED,
    )
    _line(
        document,
        f"{day.year}年第{day.timetuple().tm_yday}期",
        FANGSONG,
        SIZE_3,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    issued = _line(document, f"{issuer}编　　{_chinese_date(day)}", FANGSONG, SIZE_3)
    _red_rule(issued)

    _heading(document, 1, "总体情况")
    _body(document, _overview(day, log, checkpoints))

    _heading(document, 2, "重点舆情")
    if not entries:
        _body(document, "当日无新增涉本地政务舆情（零报告）。")
    number = 0
    for level, level_entries in log.items():
        for entry in level_entries:
            number += 1
            case = entry.case
            where = f"（{'、'.join(case.counties)}）" if case.counties else ""
            _heading(
                document, 0, f"（{_numeral(number)}）【{level.value}】{case.title}{where}", numbered=False
            )
            who = case.owner or "、".join(case.expected) or "未确定"
            _body(
                document,
                f"来源：{case.source}；发现时间：{case.opened_at.astimezone(SHANGHAI):%H:%M}；"
                f"案件编号：{case.short_id}；责任单位：{who}；办理状态：{case.state.label}；"
                f"时限：{deadline_summary(entry.deadlines, now) or '无'}。原文见附件第 {number} 条。",
            )

    _heading(document, 3, "巡查签收")
    for checkpoint in checkpoints:
        signoff = checkpoint.signoff
        if signoff is None:
            state = "未签收" if checkpoint.at <= now else "未到时间"
            _body(
                document, f"{checkpoint.name} {checkpoint.at.astimezone(SHANGHAI):%H:%M} 时间节点：{state}。"
            )
        else:
            _body(document, f"{signoff.line()}。")

    _heading(document, 4, "信息源状况")
    failing = [s for s in sources if s.verdict != "正常"]
    _body(
        document,
        f"共 {len(sources)} 个信息源，{len(sources) - len(failing)} 个正常"
        + (
            f"，{len(failing)} 个异常：" + "；".join(f"{s.name}{s.verdict}" for s in failing)
            if failing
            else ""
        )
        + "。",
    )

    document.add_section(WD_SECTION.NEW_PAGE)
    _line(document, "附件：本期所列信息一览", HEITI, SIZE_3)
    _appendix(document, entries)
    _line(
        document,
        f"本日志由系统于 {now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）按当日立案和巡查签收记录生成，"
        "各项数字均由附件所列信息计出。",
        FANGSONG,
        Pt(10.5),
    )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _overview(day: date, log: dict[Level, list[LogEntry]], checkpoints: Sequence[Checkpoint]) -> str:
    entries = [entry for entries in log.values() for entry in entries]
    if not entries:
        text = f"{day.month}月{day.day}日无新增涉本地政务舆情。"
    else:
        levels = "，".join(f"{level.value} {len(items)} 件" for level, items in log.items() if items)
        counties = Counter(c for entry in entries for c in entry.case.counties)
        where = "；涉及" + "、".join(f"{c} {n} 件" for c, n in counties.most_common()) if counties else ""
        claimed = sum(1 for entry in entries if entry.case.owner)
        text = (
            f"{day.month}月{day.day}日新增涉本地政务舆情 {len(entries)} 件，其中{levels}{where}。"
            f"已认领 {claimed} 件，待认领 {len(entries) - claimed} 件。"
        )
    signed = sum(1 for c in checkpoints if c.signoff)
    return text + f"当日 {len(checkpoints)} 个巡查时间节点，已签收 {signed} 个。"


def _appendix(document: DocumentType, entries: list[LogEntry]) -> None:
    headings = ("序号", "标题", "来源", "发现时间", "链接", "信息编号")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell.paragraphs[0], text, HEITI)
    for number, entry in enumerate(entries, start=1):
        case = entry.case
        row = table.add_row().cells
        values = (
            str(number),
            case.title,
            case.source,
            f"{case.opened_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
            case.url,
            case.post_id,
        )
        for cell, text in zip(row, values, strict=True):
            _cell(cell.paragraphs[0], text, FANGSONG)
    if not entries:
        row = table.add_row().cells
        _cell(row[0].paragraphs[0], "无", FANGSONG)


# -- layout ------------------------------------------------------------------------------------------------


def _page(document: DocumentType) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = SIZE_3
    _fonts(normal.element.get_or_add_rPr(), FANGSONG)
    # CJK text falls back to a Japanese face unless the document says it is Chinese (python-docx's template).
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for lang in defaults.iter(qn("w:lang")):
            lang.set(qn("w:eastAsia"), "zh-CN")
        for fonts in defaults.iter(qn("w:rFonts")):
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attribute), None)
    _page_number(section.footer.paragraphs[0])


def _fonts(rpr: Any, face: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), face)


def _run(paragraph: Paragraph, text: str, face: str, size: Pt) -> None:
    run = paragraph.add_run(text)
    run.font.size = size
    _fonts(run._r.get_or_add_rPr(), face)


def _line(
    document: DocumentType,
    text: str,
    face: str,
    size: Pt,
    *,
    align: WD_ALIGN_PARAGRAPH | None = None,
    space: float = 0,
    colour: RGBColor | None = None,
) -> Paragraph:
    paragraph: Paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space)
    _run(paragraph, text, face, size)
    if colour is not None:
        paragraph.runs[-1].font.color.rgb = colour
    return paragraph


def _heading(document: DocumentType, number: int, text: str, *, numbered: bool = True) -> None:
    """`一、` headings in 黑体, `（一）` ones in 楷体, both 三号 and indented two characters."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(32)
    if numbered:
        _run(paragraph, f"{_numeral(number)}、{text}", HEITI, SIZE_3)
    else:
        _run(paragraph, text, KAITI, SIZE_3)


def _body(document: DocumentType, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(32)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _run(paragraph, text, FANGSONG, SIZE_3)


def _cell(paragraph: Paragraph, text: str, face: str) -> None:
    _run(paragraph, text, face, Pt(10.5))


def _red_rule(paragraph: Paragraph) -> None:
    """The red separator under the issuing line, as the paragraph's bottom border."""
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().append(border)


def _page_number(paragraph: Paragraph) -> None:
    """`— 1 —` in 四号宋体, centred (as internal documents have it)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, "— ", SONG, SIZE_4)
    run = paragraph.add_run()
    run.font.size = SIZE_4
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    _run(paragraph, " —", SONG, SIZE_4)


def _numeral(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
