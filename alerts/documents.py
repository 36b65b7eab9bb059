"""The daily 舆情日志 as a Word document an office files, in the 公文 layout of GB/T 9704-2012 (A4, its
margins, 三号仿宋 body, 二号小标宋 title, 黑体 and 楷体 headings, `— 1 —` page numbers).

Every figure in it is counted from the cases and sign-offs the log lists, and every post it names is in its
appendix with its source, time, link and id in the store. A day with nothing to report is a zero report.
The fonts are written by the names government PCs have (仿宋_GB2312 …), with the open faces that stand in
for them elsewhere named as alternatives.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
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
from alerts.cases import HISTORY_LABELS, Case, HistoryEntry, State
from alerts.records import BULLETIN_COLUMNS, Assessment, LogEntry, deadline_summary
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
    checkpoints: Sequence[Checkpoint] | None,
    sources: Sequence[SourceLine] | None,
    now: datetime,
) -> bytes:
    """The day's 舆情日志 as .docx bytes; a unit's own (no `checkpoints` nor `sources`, which are the
    office's) has its cases only."""
    document = Document()
    _page(document)
    entries = [entry for level in log for entry in log[level]]

    _masthead(
        document,
        f"{office}政务舆情日志",
        f"{issuer}编",
        day,
        issue=f"{day.year}年第{day.timetuple().tm_yday}期",
    )

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

    if checkpoints is not None:
        _office_sections(document, checkpoints, sources or (), now)

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


def _office_sections(
    document: DocumentType, checkpoints: Sequence[Checkpoint], sources: Sequence[SourceLine], now: datetime
) -> None:
    """The office's own sections of its log: the checkpoints' sign-offs and each source's health."""
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


def _overview(day: date, log: dict[Level, list[LogEntry]], checkpoints: Sequence[Checkpoint] | None) -> str:
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
    if checkpoints is None:
        return text
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


def _masthead(document: DocumentType, title: str, issued_by: str, day: date, *, issue: str = "") -> None:
    """内部资料 at the top, the red title, the issue number if any, and who issued it on which day above the
    red rule: the head every record of the office shares."""
    _line(document, "内部资料　注意保存", HEITI, SIZE_3)
    _line(document, title, TITLE, SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, space=12, colour=RED)
    if issue:
        _line(document, issue, FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_rule(_line(document, f"{issued_by}　　{_chinese_date(day)}", FANGSONG, SIZE_3))


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


# -- 专报 ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventPost:
    """One post of the event as the 专报 cites it."""

    id: str
    source: str  # the platform, as people name it (微博, 新浪 …)
    media: str | None
    author: str | None
    title: str | None
    text: str
    url: str
    published_at: datetime
    polarity: str | None  # positive / neutral / negative
    reach: int  # comments + reposts + likes
    official: bool  # the press or an official account speaking, not a netizen


@dataclass(frozen=True, slots=True)
class Handling:
    """The event's case: where it stands, its steps and its deadlines (None when no case was opened)."""

    ref: str
    state: str
    units: list[str]
    steps: list[tuple[datetime, str, str, str]]  # (when, what, who, note)
    deadlines: list[tuple[str, datetime, str]]  # (what, due, how it stands)


POLARITY_NAMES = {"positive": "正面", "neutral": "中性", "negative": "负面"}
QUOTES = 3


def special_report_docx(
    *,
    office: str,
    issuer: str,
    event_id: str,
    level: str | None,
    counties: Sequence[str],
    posts: Sequence[EventPost],
    handling: Handling | None,
    duties: Sequence[str],
    now: datetime,
) -> bytes:
    """The 专报 of one event as .docx bytes: 舆情概况, 传播情况 (with the posts per hour), 内容分析, 处置情况
    与建议. Every figure is counted from `posts`, every quote is one of them, and all are in the appendix;
    what the records do not hold is said to be missing."""
    document = Document()
    _page(document)
    posts = sorted(posts, key=lambda p: p.published_at)
    number = {post.id: n for n, post in enumerate(posts, start=1)}
    _masthead(document, f"{office}政务舆情专报", f"{issuer}编", now.astimezone(SHANGHAI).date())
    first = posts[0] if posts else None
    title = (first.title or first.text[:30]) if first else event_id
    _line(document, title, TITLE, Pt(18), align=WD_ALIGN_PARAGRAPH.CENTER, space=6)

    _heading(document, 1, "舆情概况")
    if first is None:
        _body(document, "本事件在存储中没有信息，无法概述。")
    else:
        platforms = Counter(p.source for p in posts)
        media = list(dict.fromkeys(p.media for p in posts if p.media))
        reach = sum(p.reach for p in posts)
        _body(
            document,
            f"{first.published_at.astimezone(SHANGHAI):%m月%d日%H时%M分}，{first.source}"
            f"{'·' + first.media if first.media else ''}出现「{title}」相关信息（附件第 1 条）。"
            f"截至{now.astimezone(SHANGHAI):%m月%d日%H时%M分}，共发现相关信息 {len(posts)} 条，"
            f"分布于{'、'.join(f'{k} {v} 条' for k, v in platforms.most_common())}"
            + (f"，{'、'.join(media)}等媒体参与报道或转载" if media else "，暂无媒体报道")
            + f"；累计评论、转发、点赞 {reach:,} 次。"
            + (f"涉及{'、'.join(counties)}。" if counties else "未涉及本市具体县区。")
            + (f"事件已达{level}。" if level else ""),
        )

    _heading(document, 2, "传播情况")
    if posts:
        by_platform: dict[str, list[EventPost]] = {}
        for post in posts:
            by_platform.setdefault(post.source, []).append(post)
        for n, (platform, items) in enumerate(
            sorted(by_platform.items(), key=lambda kv: -len(kv[1])), start=1
        ):
            _heading(document, 0, f"（{_numeral(n)}）{platform}", numbered=False)
            _body(
                document,
                f"共 {len(items)} 条，首条 {items[0].published_at.astimezone(SHANGHAI):%m-%d %H:%M}，"
                f"末条 {items[-1].published_at.astimezone(SHANGHAI):%m-%d %H:%M}，"
                f"互动 {sum(p.reach for p in items):,} 次（附件第 "
                f"{'、'.join(str(number[p.id]) for p in items[:10])}{' 等' if len(items) > 10 else ''} 条）。",
            )
        chart = _trend_chart(posts)
        if chart is not None:
            document.add_picture(io.BytesIO(chart), width=Mm(150))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _line(document, "图：各平台每小时信息量", FANGSONG, Pt(12), align=WD_ALIGN_PARAGRAPH.CENTER)
    else:
        _body(document, "无信息，无法描述传播情况。")

    _heading(document, 3, "内容分析")
    if posts:
        tally = Counter(POLARITY_NAMES.get(p.polarity or "", "未判断") for p in posts)
        _body(
            document,
            "情感倾向："
            + "，".join(f"{k} {v} 条（{100 * v / len(posts):.0f}%）" for k, v in tally.most_common())
            + "。",
        )
        for label, group in (("媒体和官方账号", [p for p in posts if p.official]),
                             ("网民", [p for p in posts if not p.official])):  # fmt: skip
            if not group:
                _body(document, f"{label}：暂无相关信息。")
                continue
            quotes = sorted(group, key=lambda p: -p.reach)[:QUOTES]
            said = "；".join(
                f"「{_quote(p.text)}」（{p.media or p.source}，附件第 {number[p.id]} 条）" for p in quotes
            )
            _body(document, f"{label}（{len(group)} 条）代表性说法：{said}。")
    else:
        _body(document, "无信息，无法分析。")

    _heading(document, 4, "处置情况与建议")
    if handling is None:
        _body(document, "本事件尚未立案，无处置记录。")
    else:
        _body(
            document,
            f"{handling.ref}，责任单位：{'、'.join(handling.units) or '未确定'}，目前状态：{handling.state}。",
        )
        for when, what, who, note in handling.steps:
            _body(
                document,
                f"{when.astimezone(SHANGHAI):%m-%d %H:%M} {what}（{who}）{('：' + note) if note else ''}。",
            )
        for what, due, standing in handling.deadlines:
            _body(document, f"{what}时限 {due.astimezone(SHANGHAI):%m-%d %H:%M}：{standing}。")
    if duties:
        _body(document, "按规定应做到：" + "；".join(duties) + "。")

    document.add_section(WD_SECTION.NEW_PAGE)
    _line(document, "附件：本专报所引信息一览", HEITI, SIZE_3)
    headings = ("序号", "标题或摘要", "平台", "发布时间", "链接", "信息编号")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell.paragraphs[0], text, HEITI)
    for post in posts:
        row = table.add_row().cells
        values = (
            str(number[post.id]),
            post.title or _quote(post.text),
            post.source + (f"·{post.media}" if post.media else ""),
            f"{post.published_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
            post.url,
            post.id,
        )
        for cell, text in zip(row, values, strict=True):
            _cell(cell.paragraphs[0], text, FANGSONG)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _quote(text: str, length: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length] + "……"


def _trend_chart(posts: Sequence[EventPost]) -> bytes | None:
    """Posts per hour and platform as a PNG, with a CJK font where one is installed; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    first = min(p.published_at for p in posts).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    last = max(p.published_at for p in posts).astimezone(SHANGHAI)
    hours = min(int((last - first).total_seconds() // 3600) + 1, 7 * 24)
    series: dict[str, list[int]] = {}
    for post in posts:
        index = min(int((post.published_at.astimezone(SHANGHAI) - first).total_seconds() // 3600), hours - 1)
        series.setdefault(post.source, [0] * hours)[index] += 1
    font = _cjk_font(font_manager)
    figure, axes = plt.subplots(figsize=(7.5, 3.2), dpi=150)
    try:
        for platform, counts in sorted(series.items()):
            axes.plot(range(hours), counts, marker="o", markersize=3, linewidth=1.5, label=platform)
        every = max(1, hours // 8)
        axes.set_xticks(range(0, hours, every))
        axes.set_xticklabels(
            [f"{(first + _hour(i)):%m-%d %H时}" for i in range(0, hours, every)],
            fontproperties=font,
            fontsize=7,
        )
        axes.set_ylabel("条数", fontproperties=font)
        axes.legend(prop=font)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)


def _hour(n: int) -> Any:
    from datetime import timedelta

    return timedelta(hours=n)


def _cjk_font(font_manager: Any) -> Any:
    for name in ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei"):
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        except ValueError:
            continue
        return font_manager.FontProperties(fname=path)
    return font_manager.FontProperties()


# -- 季度通报 ----------------------------------------------------------------------------------------------


def bulletin_docx(
    *,
    office: str,
    issuer: str,
    assessment: Assessment,
    cases: Sequence[Case],
    timelines: Mapping[str, Sequence[HistoryEntry]],
    categories: Mapping[str, Sequence[str]],
    now: datetime,
) -> bytes:
    """The quarterly 通报 of how units claimed and answered (附件2 第十二条) as .docx bytes: the totals, each
    unit's figures (the same `assess` as `yuqing report`), the trends by month, county, rule category (the
    categories of the rules its alert matched) and level as charts,
    the lapses and the false alarms on record, and an appendix of every case counted."""
    document = Document()
    _page(document)
    counted = [case for case in cases if case.state is not State.FALSE_ALARM]
    _masthead(
        document,
        f"{office}{assessment.title}政务舆情认领回应情况通报",
        issuer,
        now.astimezone(SHANGHAI).date(),
    )

    _heading(document, 1, "总体情况")
    units = assessment.units
    received = sum(u.received for u in units)
    claimed = sum(u.claimed_in_time for u in units)
    levels = Counter(case.level.value for case in counted)
    _body(
        document,
        f"{assessment.title}共立案 {len(counted)} 件"
        + (f"（{'，'.join(f'{k} {v} 件' for k, v in levels.most_common())}）" if counted else "")
        + f"，交办 {len(units)} 个单位共 {received} 件次，按时认领 {claimed} 件次"
        + (f"（{100 * claimed / received:.0f}%）" if received else "")
        + f"，按时回应 {sum(u.answered_in_time for u in units)} 件，逾期 {len(assessment.lapses)} 项"
        + f"；另有误报 {len(assessment.false_alarms)} 件，不计入考核。",
    )

    _heading(document, 2, "各单位认领回应情况")
    headings = (*BULLETIN_COLUMNS, "按时认领率")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell.paragraphs[0], text, HEITI)
    for record in units:
        row = table.add_row().cells
        rate = f"{100 * record.claimed_in_time / record.received:.0f}%" if record.received else "—"
        for cell, value in zip(row, (*record.row(), rate), strict=True):
            _cell(cell.paragraphs[0], str(value), FANGSONG)
    _widths(table, [44, *[15] * (len(headings) - 1)])
    if not units:
        _body(document, "本期无交办案件。")

    _heading(document, 3, "态势")
    if counted:
        by_month = Counter(f"{c.opened_at.astimezone(SHANGHAI):%Y-%m}" for c in counted)
        by_county = Counter(county for c in counted for county in (c.counties or ["市本级"]))
        by_category = Counter(k for c in counted for k in (categories.get(c.id) or ["未命中规则"]))
        for title, counts in (("各月立案数", sorted(by_month.items())), ("各县区立案数", by_county.most_common()),
                              ("各类别立案数", by_category.most_common()),
                              ("各级别立案数", levels.most_common())):  # fmt: skip
            _body(document, f"{title}：" + "，".join(f"{k} {v} 件" for k, v in counts) + "。")
            chart = _bar_chart(title, counts)
            if chart is not None:
                document.add_picture(io.BytesIO(chart), width=Mm(130))
                document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        _body(document, "本期无立案，无态势可述。")

    _heading(document, 4, "逾期记录")
    for n, lapse in enumerate(assessment.lapses, start=1):
        done = (
            f"{lapse.done_at.astimezone(SHANGHAI):%m-%d %H:%M} 由{lapse.done_by}补办"
            if lapse.done_at
            else "至今未办"
        )
        _body(
            document,
            f"{n}. 案件 {lapse.short_id}「{lapse.title}」{lapse.kind.value}时限 "
            f"{lapse.due_at.astimezone(SHANGHAI):%m-%d %H:%M}，{'、'.join(lapse.units)}逾期，{done}。",
        )
    if not assessment.lapses:
        _body(document, "本期无逾期。")

    _heading(document, 5, "误报")
    for n, alarm in enumerate(assessment.false_alarms, start=1):
        _body(
            document,
            f"{n}. 案件 {alarm.short_id}「{alarm.title}」，{alarm.by}于 {alarm.at.astimezone(SHANGHAI):%m-%d %H:%M} "
            f"认定误报：{alarm.reason or '未说明理由'}。",
        )
    if not assessment.false_alarms:
        _body(document, "本期无误报。")

    document.add_section(WD_SECTION.NEW_PAGE)
    _line(document, "附件：本期计入的案件一览", HEITI, SIZE_3)
    headings = ("序号", "案件编号", "标题", "级别", "立案时间", "县区", "状态", "信息编号")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell.paragraphs[0], text, HEITI)
    for n, case in enumerate(sorted(cases, key=lambda c: c.opened_at), start=1):
        row = table.add_row().cells
        values = (
            str(n), case.short_id, case.title, case.level.value,
            f"{case.opened_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}", "、".join(case.counties) or "市本级",
            case.state.label, case.post_id,
        )  # fmt: skip
        for cell, text in zip(row, values, strict=True):
            _cell(cell.paragraphs[0], text, FANGSONG)
    # The evidence a 第三方评估 asks for: how each case went, step by step, as recorded.
    _line(document, "附件二：各案件办理经过", HEITI, SIZE_3, space=6)
    for n, case in enumerate(sorted(cases, key=lambda c: c.opened_at), start=1):
        _body(
            document, f"{n}. 案件 {case.short_id}「{case.title}」（{case.level.value}，{case.state.label}）"
        )
        for step in timelines.get(case.id, ()):
            _line(
                document,
                f"{step.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} {HISTORY_LABELS.get(step.action, step.action)}"
                f"（{step.actor}{'·' + step.unit if step.unit else ''}）{('：' + step.note) if step.note else ''}",
                FANGSONG,
                Pt(10.5),
            )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _widths(table: Any, millimetres: Sequence[float]) -> None:
    """Column widths that hold (Word reads each cell's width, LibreOffice the grid's)."""
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, millimetres, strict=False):
            cell.width = Mm(width)


def _bar_chart(title: str, counts: Sequence[tuple[str, int]]) -> bytes | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib import pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    font = _cjk_font(font_manager)
    figure, axes = plt.subplots(figsize=(6.5, 2.8), dpi=150)
    try:
        labels = [label for label, _ in counts]
        axes.bar(range(len(counts)), [value for _, value in counts], color="#b3261e")
        axes.set_xticks(range(len(counts)))
        axes.set_xticklabels(labels, fontproperties=font, fontsize=8, rotation=30 if len(labels) > 5 else 0)
        axes.set_title(title, fontproperties=font)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)


# -- 总结评估 ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    what: str  # 认领 / 首次发布 / 新闻发布会 / 回应
    due: datetime
    met_at: datetime | None
    by: str | None
    in_time: bool


def review_docx(
    *,
    office: str,
    issuer: str,
    title: str,
    posts: Sequence[EventPost],
    alerts: Sequence[tuple[datetime, str]],
    handling: Handling | None,
    deadlines: Sequence[DeadlineRecord],
    now: datetime,
) -> bytes:
    """The 总结评估 of a major event's handling (seed 000: 重大政务舆情总结评估) as .docx bytes: the timeline
    from the first post through every alert and every step of the case, each deadline against when it was
    met, and what the records show went in time or late. Nothing is judged that the records do not hold."""
    document = Document()
    _page(document)
    _masthead(document, f"{office}重大政务舆情总结评估", f"{issuer}编", now.astimezone(SHANGHAI).date())
    _line(document, title, TITLE, Pt(18), align=WD_ALIGN_PARAGRAPH.CENTER, space=6)

    _heading(document, 1, "事件经过")
    timeline: list[tuple[datetime, str]] = []
    if posts:
        first = min(posts, key=lambda p: p.published_at)
        timeline.append(
            (first.published_at, f"{first.source}{'·' + first.media if first.media else ''}首发相关信息")
        )
    timeline += [(at, f"发出预警（{what}）") for at, what in alerts]
    if handling is not None:
        timeline += [
            (at, f"{what}（{who}）{('：' + note) if note else ''}") for at, what, who, note in handling.steps
        ]
    for at, what in sorted(timeline, key=lambda item: item[0]):
        _body(document, f"{at.astimezone(SHANGHAI):%m月%d日%H:%M} {what}。")
    if not timeline:
        _body(document, "记录中没有本事件的经过。")

    _heading(document, 2, "时限执行情况")
    on_time: list[str] = []
    late: list[str] = []
    open_: list[str] = []
    for record in deadlines:
        if record.met_at is None:
            standing = "尚未完成" + ("，已逾期" if record.due <= now else "")
            (late if record.due <= now else open_).append(record.what)
        else:
            spent = record.met_at - record.due
            if record.in_time:
                standing = (
                    f"{record.met_at.astimezone(SHANGHAI):%m-%d %H:%M} 由{record.by or '责任单位'}完成，按时"
                )
                on_time.append(record.what)
            else:
                standing = (
                    f"{record.met_at.astimezone(SHANGHAI):%m-%d %H:%M} 由{record.by or '责任单位'}完成，"
                    f"逾期 {_duration(spent)}"
                )
                late.append(record.what)
        _body(document, f"{record.what}：时限 {record.due.astimezone(SHANGHAI):%m-%d %H:%M}；{standing}。")
    if not deadlines:
        _body(document, "本事件未立案或没有时限记录。")

    _heading(document, 3, "评估")
    if deadlines:
        _body(
            document,
            (f"按时完成：{'、'.join(on_time)}。" if on_time else "没有按时完成的时限。")
            + (f"逾期或未完成：{'、'.join(late)}。" if late else "没有逾期。")
            + (f"尚未到期：{'、'.join(open_)}。" if open_ else ""),
        )
    else:
        _body(document, "无时限记录，无从评估。")
    _body(document, f"以上据案件办理记录和所存 {len(posts)} 条信息整理，未作记录以外的判断。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _duration(span: Any) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分" if hours else f"{minutes} 分"


# -- PDF ---------------------------------------------------------------------------------------------------

FONTS_CONF = Path(__file__).with_name("fonts") / "fonts.conf"
OFFICE_SUITES = ("soffice", "libreoffice")


class DocumentError(Exception):
    """A document that could not be made, said in Chinese with what to do."""


def to_pdf(docx: bytes, timeout: float = 180) -> bytes:
    """The document as PDF, laid out by LibreOffice with the open CJK faces standing in for the official
    ones (alerts/fonts/fonts.conf) and the fonts it uses embedded."""
    office = next((found for name in OFFICE_SUITES if (found := shutil.which(name))), None)
    if office is None:
        raise DocumentError(
            "未安装 LibreOffice，无法生成 PDF：请安装（apt-get install libreoffice-writer-nogui）后重试，或改存 .docx"
        )
    with tempfile.TemporaryDirectory(prefix="yuqing-pdf-") as folder:
        source = Path(folder) / "document.docx"
        source.write_bytes(docx)
        environment = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": folder}
        command = [
            office,
            f"-env:UserInstallation=file://{folder}/profile",  # a profile of its own: no clash with a running one
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            folder,
            str(source),
        ]
        try:
            subprocess.run(command, env=environment, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise DocumentError(f"LibreOffice 在 {timeout:.0f} 秒内未能生成 PDF") from None
        produced = Path(folder) / "document.pdf"
        if not produced.is_file():
            raise DocumentError("LibreOffice 未能生成 PDF（文档可改存为 .docx）")
        return produced.read_bytes()
