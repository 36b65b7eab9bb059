"""The generic reader: title, time and body of an article page no site rule covers.

Local government, hospital, school and county media sites each run their own template, so no selector
holds across them. The reader looks at what every article page shares instead:

- the **body** is the block where the page's text is densest: long paragraphs full of Chinese punctuation,
  few links. Each paragraph scores for its parent and, less, for the blocks above it; the best block wins.
  Captions, bylines, "原标题" lines and editor lines inside it are set aside, not read as body.
- the **title** is the headline nearest above the body that agrees with the page's `<title>`. A headline
  further up is the site's or the column's name, one below the body is a recommended article.
- the **time** is the one printed nearest the headline or byline, before any other time on the page. A
  printed time without a year takes the year from the page's own metadata (or its address); one without a
  clock takes the clock from the metadata when both name the same day.

Every field says how it was found (`Reading.how`), in words. `read_article(html)` never raises; a page
without an article gives `Reading.missing`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from lxml import html as lxml_html

from classifiers.text import clean_text
from pipeline.items import SHANGHAI
from spiders.parsing.fields import parse_editor
from spiders.parsing.times import parse_time

# Never read: what a browser runs or hides, and the page's furniture.
_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "button",
        "select",
        "textarea",
        "input",
        "svg",
        "canvas",
        "video",
        "audio",
        "template",
        "head",
        "nav",
        "footer",
    }
)
# Elements a paragraph of text lives in. A `div` or `td` counts when it holds text itself.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "td",
        "li",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "center",
        "h4",
        "h5",
        "h6",
        "main",
        "form",
    }
)
_PUNCTUATION = re.compile(r"[，。！？；：、“”,.!?;]")
_SENTENCE_END = re.compile(r"[。！？；!?;]")
# Less text than this in a paragraph is a label, a menu entry or a date, not prose.
_MIN_PARAGRAPH = 8
# Less than this in the whole body is a notice or a footer, not an article.
MIN_BODY_CHARS = 100
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TITLE_HINT = re.compile(r"title|headline|biaoti|bt\b|tit\b|_bt|bt_|artic.*h|wzbt", re.IGNORECASE)
# What joins the headline to the column and site names in <title>: "标题_栏目_网站", "标题 - 网站", "标题-栏目-网站".
_TITLE_SEPARATORS = re.compile(
    r"\s*(?:[_|｜]|--|——|-\s|\s-|—|(?<=[\u4e00-\u9fff”」）])-(?=[\u4e00-\u9fff]))\s*"
)

# Lines inside the body that are not the article: who wrote, edited or photographed it, where it came from,
# the original headline, a caption.
_BYLINE = re.compile(
    r"^[\[【(（]?\s*(?:本文)?(?:来源|稿源|作者|文|记者|通讯员|见习记者|特约记者|编辑|责任编辑|责编|主编|审核|审校|"
    r"校对|初审|复审|终审|审签|签发|监制|出品|统筹|摄影|摄像|图|图文|视频|制图|设计|供稿|撰稿|编审|发布人|信息员)"
    r"\s*[:：丨|/｜]"
)
# A byline on a line of its own: "半月谈记者 史卫燕", "本报记者 张三 李四", "新华社记者才扬".
_REPORTER_LINE = re.compile(
    r"^[^\s，。：:]{0,10}?(?:记者|通讯员|特约记者|见习记者)[\s：:]*[\u4e00-\u9fff]{2,4}(?:[\s、，,]+[\u4e00-\u9fff]{2,4})*$"
)
_ORIGINAL_TITLE = re.compile(r"^[\[【(（]?\s*原(?:标)?题\s*[:：]")
_CAPTION = re.compile(
    r"^(?:▲|△|↑|图为|图片为|上图|下图|左图|右图|资料图|图片来源|(?:\(|（)?图片?(?:\d+|[一二三四五六七八九十]+)?[:：\s])"
)
_CAPTION_TAIL = re.compile(r"[（(](?:记者\s*)?\S{0,12}摄[)）]$|(?:摄|供图)$")
# Blocks named for what is not the article.
_NOT_ARTICLE = re.compile(r"comment|reply|recommend|related|sidebar|footer|pinglun|liuyan", re.IGNORECASE)
_SHARE = re.compile(
    r"^(?:分享到|转播到|扫一扫|打印(?:本页|此页)?|关闭(?:窗口|本页)?|【?字体|字号[:：]|收藏|返回顶部|上一篇|下一篇)"
)

# The site's own lines: who runs it, its registrations. A body left unclosed takes the footer in.
_SITE_INFO = re.compile(
    r"主办(?:单位)?\s*[:：]|承办(?:单位)?\s*[:：]|网站标识码|ICP备|公网安备|版权所有|技术支持\s*[:：]"
)

# Times as pages print them, with their year.
_FULL_TIME = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:年|[-/.])\s*(?P<m>\d{1,2})\s*(?:月|[-/.])\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?:[T\s]|&nbsp;)*\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
# And without it: "10-08 12:00", "10月08日 12:00". Only with a clock, or a label before it: a bare "10-08"
# is too often a count or a phone number.
_YEARLESS_TIME = re.compile(
    r"(?<![\d\-/.年])(?P<m>\d{1,2})\s*(?:月|-|/)\s*(?P<d>\d{1,2})\s*日?\s+(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})"
    r"(?![\d])"
)
_TIME_LABEL = re.compile(
    r"(?:发布|发表|更新|成文|公开|印发|生成)?(?:时间|日期)\s*[:：]|发布于|发表于|时间\s*[:：]"
)
_URL_DATE = re.compile(
    r"/(?P<y>20\d{2})[-_/]?(?P<m>[01]\d)(?:[-_/]?(?P<d>[0-3]\d))?/|/t(?P<ty>20\d{2})(?P<tm>[01]\d)(?P<td>[0-3]\d)_"
)
_META_TIMES = (
    ("article:published_time", "property"),
    ("PubDate", "name"),
    ("pubdate", "name"),
    ("publishdate", "name"),
    ("publish_date", "name"),
    ("publishtime", "name"),
    ("firstpublishedtime", "name"),
    ("og:release_date", "property"),
    ("datePublished", "itemprop"),
    ("weibo: article:create_at", "name"),
    ("Date", "name"),
)
_META_TITLES = (("ArticleTitle", "name"), ("og:title", "property"), ("twitter:title", "name"))
_META_SITE = (("SiteName", "name"), ("og:site_name", "property"), ("ColumnName", "name"))


@dataclass(slots=True)
class Reading:
    """What the reader found, and for each field how (`how["title"|"time"|"body"]`, in Chinese)."""

    title: str | None = None
    published_at: datetime | None = None
    paragraphs: list[str] = field(default_factory=list)
    # Lines of the body block that are not the article (bylines, captions, 原标题), each with why.
    set_aside: list[tuple[str, str]] = field(default_factory=list)
    editor: str | None = None
    how: dict[str, str] = field(default_factory=dict)
    missing: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


# The tree ------------------------------------------------------------------------------------------------


def _parse(html: str) -> etree._Element | None:
    try:
        root = lxml_html.document_fromstring(html.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return root


_PARSER = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)


def _hidden(element: etree._Element) -> bool:
    return element.get("hidden") is not None or bool(_HIDDEN.search(element.get("style") or ""))


def _visible(root: etree._Element) -> Iterator[etree._Element]:
    """Every element a reader could see, in document order."""
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag in _SKIP_TAGS or _hidden(element):
            continue
        yield element
        stack.extend(reversed(element))


def _text(element: etree._Element) -> str:
    """All visible text of an element, one line per block."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str) or node.tag in _SKIP_TAGS or _hidden(node):
            return
        if node.tag in _BREAKS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if node.tag in _BREAKS:
            parts.append("\n")

    walk(element)
    return "".join(parts)


def _link_text_length(element: etree._Element) -> int:
    return sum(len(clean_text(a.text_content())) for a in element.iter("a"))


# The body ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Paragraph:
    element: etree._Element
    text: str
    order: int


def _paragraphs(elements: list[etree._Element]) -> list[_Paragraph]:
    """The leaf text blocks of the page, one per line (a `<br>` ends a line), in document order."""
    found: list[_Paragraph] = []
    for order, element in enumerate(elements):
        if element.tag not in _BLOCKS:
            continue
        if any(isinstance(child.tag, str) and child.tag in _BLOCK_CHILDREN for child in element):
            # A block of blocks: its own loose text (lines between <br>s in a div) still counts.
            parts = [element.text or ""]
            for child in element:
                if not isinstance(child.tag, str) or child.tag in _BLOCK_CHILDREN or child.tag == "br":
                    parts.append("\n")
                elif child.tag in _INLINE:
                    parts.append(child.text_content())
                parts.append(child.tail or "")
            own = "".join(parts)
        else:
            own = _text(element)
        for line in clean_text(own, lines=True).splitlines():
            if len(line) >= 2:
                found.append(_Paragraph(element, line, order))
    return found


_BLOCK_CHILDREN = frozenset(
    {
        "p",
        "div",
        "table",
        "ul",
        "ol",
        "section",
        "article",
        "blockquote",
        "li",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "center",
        "form",
        "tr",
        "tbody",
        "td",
    }
)
# Tags that end a line of text: every block a paragraph cannot hold, but a form or a table body (they only
# wrap blocks), and line breaks, rules and list terms.
_BREAKS = (_BLOCK_CHILDREN - {"form", "tbody"}) | {"br", "hr", "dd", "dt"}
_INLINE = frozenset(
    {"a", "span", "font", "strong", "b", "em", "i", "u", "sup", "sub", "label", "small", "big"}
)


def _paragraph_score(paragraph: _Paragraph) -> float:
    text = paragraph.text
    if len(text) < _MIN_PARAGRAPH:
        return 0.0
    links = _link_text_length(paragraph.element)
    if links > len(text) * 0.5:
        return 0.0
    punctuation = len(_PUNCTUATION.findall(text))
    if punctuation == 0 and len(text) < 40:
        return 0.0
    return 1.0 + punctuation + min(len(text) / 40, 4.0)


def _best_block(paragraphs: list[_Paragraph]) -> etree._Element | None:
    """The block the page's prose gathers in: each paragraph scores for its parent, half for the grandparent,
    a third above that; the best block's score is cut by the share of its text that is links."""
    scores: dict[etree._Element, float] = {}
    for paragraph in paragraphs:
        points = _paragraph_score(paragraph)
        if not points:
            continue
        node = paragraph.element
        # The paragraph itself, when it is a whole block of loose text (a div of lines split by <br>).
        scores[node] = scores.get(node, 0.0) + points * 0.5 if node.tag != "p" else scores.get(node, 0.0)
        ancestor = node.getparent()
        for divisor in (1.0, 2.0, 3.0):
            if ancestor is None or ancestor.tag in ("body", "html"):
                break
            scores[ancestor] = scores.get(ancestor, 0.0) + points / divisor
            ancestor = ancestor.getparent()
    best, best_score = None, 0.0
    for element, score in scores.items():
        text_length = len(clean_text(element.text_content())) or 1
        share_links = _link_text_length(element) / text_length
        final = score * (1.0 - min(share_links, 1.0))
        if _NOT_ARTICLE.search(f"{element.get('id') or ''} {element.get('class') or ''}"):
            final *= 0.2  # readers' comments, recommendations: dense prose that is not the article
        if final > best_score:
            best, best_score = element, final
    return best


def _describe(element: etree._Element) -> str:
    """`div#zoom.TRS_Editor`: how a person finds the element in the page's source."""
    name = element.tag
    if element.get("id"):
        name += f"#{element.get('id')}"
    classes = (element.get("class") or "").split()
    if classes:
        name += "." + ".".join(classes[:2])
    return name


def _aside(text: str) -> str | None:
    """Why a line of the body is not the article, or None when it is."""
    if _ORIGINAL_TITLE.match(text):
        return "原标题"
    if len(text) <= 80 and (stamp := _FULL_TIME.match(text)) and stamp["H"] is not None:
        return "时间与来源"
    if parse_editor(text) is not None:
        return "编辑署名"
    if (_BYLINE.match(text) and len(text) <= 80) or (len(text) <= 40 and _REPORTER_LINE.match(text)):
        return "署名或来源"
    if _SITE_INFO.search(text) and len(text) <= 120:
        return "网站信息"
    if _SHARE.match(text) and len(text) <= 40:
        return "页面按钮"
    if (_CAPTION.match(text) or _CAPTION_TAIL.search(text)) and len(text) <= 80:
        return "图片说明"
    return None


def _caption_after_image(paragraph: _Paragraph) -> bool:
    """A short line that sits with an image (in the same block, or right after it): a caption."""
    if len(paragraph.text) > 60 or _SENTENCE_END.search(paragraph.text[:-1] if paragraph.text else ""):
        return False
    element = paragraph.element
    if element.find(".//img") is not None:
        return True
    if element.get("align") == "center" or "center" in (element.get("style") or "").replace(" ", ""):
        previous = element.getprevious()
        return (previous is not None and previous.find(".//img") is not None) or (
            previous is not None and previous.tag == "img"
        )
    return False


def _read_body(reading: Reading, elements: list[etree._Element]) -> tuple[etree._Element | None, int]:
    """The body block and the document position of its first paragraph."""
    paragraphs = _paragraphs(elements)
    block = _best_block(paragraphs)
    if block is None:
        reading.missing = "网页上没有成段的文字"
        return None, -1
    inside = [p for p in paragraphs if p.element is block or block in p.element.iterancestors()]
    kept: list[str] = []
    first = -1
    seen: set[str] = set()
    for paragraph in inside:
        text = paragraph.text
        if _link_text_length(paragraph.element) > len(text) * 0.5:
            continue
        reason = _aside(text)
        if (reason is None and not kept and _caption_after_image(paragraph)) or (
            reason is None and _caption_after_image(paragraph) and not _PUNCTUATION.search(text)
        ):
            reason = "图片说明"
        if reason == "编辑署名":
            reading.editor = reading.editor or parse_editor(text)
        if reason is not None:
            reading.set_aside.append((reason, text))
            continue
        if text in seen:
            continue
        seen.add(text)
        kept.append(text)
        first = paragraph.order if first < 0 else first
    chars = sum(len(p) for p in kept)
    if chars < MIN_BODY_CHARS:
        reading.missing = f"文字最密的区块 {_describe(block)} 只有 {chars} 字，不足 {MIN_BODY_CHARS} 字"
        return None, -1
    reading.paragraphs = kept
    aside = f"，另有 {len(reading.set_aside)} 行署名、图片说明等未算作正文" if reading.set_aside else ""
    reading.how["body"] = f"文字密度最高的区块 {_describe(block)}（{len(kept)} 段，{chars} 字{aside}）"
    return block, first


# The title -----------------------------------------------------------------------------------------------


def _meta(root: etree._Element, names: tuple[tuple[str, str], ...]) -> Iterator[tuple[str, str]]:
    for name, attribute in names:
        for element in root.iter("meta"):
            if (element.get(attribute) or "").lower() == name.lower():
                value = clean_text(element.get("content"))
                if value:
                    yield name, value


def _common_run(a: str, b: str) -> int:
    """The length of the longest run of characters `a` and `b` share."""
    if not a or not b:
        return 0
    best = 0
    previous = [0] * (len(b) + 1)
    for ca in a:
        current = [0] * (len(b) + 1)
        for j, cb in enumerate(b, start=1):
            if ca == cb:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


_TITLE_TAGS = frozenset({"h1", "h2", "h3", "h4", "strong", "b", "font", "div", "p", "td", "span", "em"})


# How many headings above the body are weighed as its title, the nearest first.
_NEAREST_HEADINGS = 200


def _title_candidates(elements: list[etree._Element]) -> Iterator[tuple[int, etree._Element, str]]:
    for order, element in enumerate(elements):
        tag = element.tag
        if tag not in _TITLE_TAGS:
            continue
        hinted = tag in ("h1", "h2", "h3") or bool(
            _TITLE_HINT.search(f"{element.get('class') or ''} {element.get('id') or ''}")
        )
        if not hinted and tag not in ("strong", "b", "font", "h4"):
            continue
        text = clean_text(_text(element))
        if 4 <= len(text) <= 120 and element.find(".//p") is None:
            yield order, element, text


def _page_title(root: etree._Element) -> str:
    found = root.find(".//title")
    return clean_text(found.text_content()) if found is not None else ""


def _strip_site(title: str, sites: list[str]) -> str:
    """`<title>` without the site or column name it carries after a separator."""
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
    if len(parts) <= 1:
        return title
    kept = [p for p in parts if not any(p == s or p in s or s in p for s in sites if s)]
    kept = kept or parts
    return max(kept, key=len) if len(kept) > 1 else kept[0]


def _read_title(
    reading: Reading, root: etree._Element, elements: list[etree._Element], body_order: int
) -> int:
    """The headline; gives its position in document order (or the body's when the headline is not printed)."""
    page_title = _page_title(root)
    sites = [value for _, value in _meta(root, _META_SITE)]
    best: tuple[float, int, str, etree._Element] | None = None
    stated = [page_title, *_TITLE_SEPARATORS.split(page_title)] if page_title else []
    stated += [value for _, value in _meta(root, _META_TITLES)]
    stated = [t for t in stated if t and t not in sites]
    # A heading among the body's paragraphs is a section's, not the article's; of those above the body,
    # the nearest few are enough (a sidebar of a thousand bold links need not be compared one by one).
    above = [c for c in _title_candidates(elements) if c[0] <= body_order][-_NEAREST_HEADINGS:]
    for order, element, text in above:
        if text in sites:
            continue
        # How much of a stated title the headline is: a site name inside <title> matches only itself. A
        # page that states no title of its own (its <title> is the site's name) leaves the headline to its
        # place and its tag.
        agreement = max((_common_run(text, t) / max(len(text), len(t)) for t in stated), default=0.5)
        if len(text) >= 5 and page_title.startswith(text):
            agreement = 1.0  # <title> is the headline followed by the column and site names
        if agreement < 0.5:
            continue
        distance = body_order - order
        nearness = 1.0 / (1.0 + max(distance, 0) / 40) if distance >= 0 else 0.15
        weight = {"h1": 1.0, "h2": 0.9, "h3": 0.8}.get(element.tag, 0.7)
        score = agreement * 2 + nearness + weight * 0.5 + min(len(text), 40) / 80
        if best is None or score > best[0]:
            best = (score, order, text, element)
    if best is not None:
        _, order, text, element = best
        if not stated:
            how = "网页标题<title>只是网站名"
        elif page_title and text in page_title:
            how = "与网页标题<title>一致"
        else:
            how = "与网页标题<title>相符"
        where = "正文上方" if order < body_order else "页面上"
        reading.title = text
        reading.how["title"] = f"{where}最近的标题 {_describe(element)}，{how}"
        return order
    for name, value in _meta(root, _META_TITLES):
        reading.title = clean_text(
            lxml_html.fromstring(f"<p>{value}</p>").text_content()
        )  # some carry markup
        reading.how["title"] = f"网页元数据 {name}（页面上没有与之相符的标题）"
        return body_order
    headings = [c for c in above if c[1].tag in ("h1", "h2") and c[2] not in sites]
    if headings:
        order, element, text = headings[-1]
        reading.title = text
        reading.how["title"] = (
            f"正文上方最近的标题 {_describe(element)}（网页标题<title>与它不符，是栏目或网站名）"
        )
        return order
    if page_title:
        reading.title = _strip_site(page_title, sites)
        reading.how["title"] = "网页标题<title>" + ("，去掉了网站名" if reading.title != page_title else "")
    return body_order


# The time ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Printed:
    moment: datetime | None  # None for a yearless time until a year is found
    order: int
    text: str
    has_clock: bool
    month: int
    day: int
    hour: int
    minute: int
    labelled: bool


def _printed_times(elements: list[etree._Element]) -> list[_Printed]:
    found: list[_Printed] = []
    for order, element in enumerate(elements):
        pieces = [element.text or ""] + [child.tail or "" for child in element if isinstance(child.tag, str)]
        for piece in pieces:
            text = clean_text(piece)
            if not text or len(text) > 200:
                continue
            labelled = bool(_TIME_LABEL.search(text))
            for match in _FULL_TIME.finditer(text):
                moment = parse_time(match.group(0))
                if moment is None:
                    continue
                found.append(
                    _Printed(
                        moment,
                        order,
                        match.group(0),
                        match["H"] is not None,
                        moment.month,
                        moment.day,
                        moment.hour,
                        moment.minute,
                        labelled,
                    )
                )
            for match in _YEARLESS_TIME.finditer(text):
                month, day, hour, minute = (int(match[k]) for k in ("m", "d", "H", "M"))
                if 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60:
                    found.append(
                        _Printed(None, order, match.group(0), True, month, day, hour, minute, labelled)
                    )
    return found


def _metadata_time(root: etree._Element, url: str | None) -> tuple[datetime | None, str, bool]:
    """The page's own stated time (meta tags, then its address): the moment, where it is, and whether it
    has a clock."""
    for name, value in _meta(root, _META_TIMES):
        moment = parse_time(value)
        if moment is not None:
            has_clock = bool(re.search(r"\d{1,2}:\d{2}", value)) and not re.search(r"00:00(?::00)?$", value)
            return moment, f"元数据 {name}", has_clock
    for element in root.iter("time"):
        moment = parse_time(element.get("datetime"))
        if moment is not None:
            return moment, "time 元素的 datetime", True
    if url and (match := _URL_DATE.search(url)):
        year = int(match["y"] or match["ty"])
        month = int(match["m"] or match["tm"])
        day = int(match["d"] or match["td"] or 1)
        try:
            return datetime(year, month, day, tzinfo=SHANGHAI), "网址中的日期", False
        except ValueError:
            return None, "", False
    return None, "", False


def _read_time(
    reading: Reading,
    root: etree._Element,
    elements: list[etree._Element],
    url: str | None,
    title_order: int,
    body_end: int,
    title_printed: bool,
) -> None:
    """The time printed nearest the headline; `body_end` is the document position of the body's last element
    (-1 without a body); without a printed headline (`title_printed` false) `title_order` is the body's start."""
    printed = _printed_times(elements)
    stated, stated_where, stated_clock = _metadata_time(root, url)

    # Nearest after the headline first (the byline under it), then the nearest before it (a header line
    # just above), then anything else; a labelled time ("发布时间：") before an unlabelled one at equal
    # distance.
    def distance(p: _Printed) -> tuple[int, int, int]:
        after = p.order >= title_order
        return (0 if after else 1, abs(p.order - title_order), 0 if p.labelled else 1)

    candidates = sorted(printed, key=distance)
    # Without a printed headline the body's start stands in for it, and the byline may be further above.
    above = 15 if title_printed else 60
    # A time far above the headline is the site's clock or a date in its banner; far below, a comment's.
    near = [
        p
        for p in candidates
        if -above <= p.order - title_order <= 60 or (p.labelled and p.order >= title_order)
    ]
    chosen = near[0] if near else None
    if chosen is None:
        if stated is not None:
            reading.published_at = stated
            reading.how["time"] = f"页面上没有印出时间，用{stated_where}"
        return
    moment = chosen.moment
    notes: list[str] = []
    if moment is None:  # no year printed
        year = stated.year if stated is not None else None
        year_where = stated_where
        if year is None:
            dated = [p.moment for p in printed if p.moment is not None]
            if dated:
                year, year_where = dated[0].year, "页面上其他带年份的日期"
        if year is None:
            reading.how["time"] = f"印出的时间「{chosen.text}」没有年份，页面也没有说明年份，未采用"
            return
        try:
            moment = datetime(year, chosen.month, chosen.day, chosen.hour, chosen.minute, tzinfo=SHANGHAI)
        except ValueError:
            return
        notes.append(f"年份取自{year_where}")
    elif stated is not None and stated_clock and abs(stated - moment).total_seconds() < 60:
        moment = stated  # the same minute; the metadata has the seconds
    elif not chosen.has_clock and stated is not None and stated_clock and stated.date() == moment.date():
        moment = stated
        notes.append(f"钟点取自{stated_where}")
    elif not chosen.has_clock:
        notes.append("只印了日期")
    reading.published_at = moment
    where = "标题下方" if chosen.order >= title_order else "标题上方"
    if 0 <= body_end < chosen.order:
        where = "正文之后"
    extra = f"，{'，'.join(notes)}" if notes else ""
    reading.how["time"] = f"{where}最近印出的时间「{chosen.text}」{extra}"


# The reader ----------------------------------------------------------------------------------------------


def read_article(html: str, url: str | None = None) -> Reading:
    """Title, time and body of one article page, each with how it was found."""
    reading = Reading()
    root = _parse(html)
    if root is None:
        reading.missing = "网页无法解析"
        return reading
    elements = list(_visible(root))  # every walk below is over these, in document order
    body, body_order = _read_body(reading, elements)
    body_end = -1
    if body is None:
        body_order = len(elements)
    else:
        inside = {id(element) for element in body.iter()}
        body_end = max(order for order, element in enumerate(elements) if id(element) in inside)
    title_order = _read_title(reading, root, elements, body_order)
    title_printed = title_order != body_order
    _read_time(reading, root, elements, url, title_order, body_end, title_printed)
    if reading.title and reading.paragraphs and reading.paragraphs[0] == reading.title:
        reading.paragraphs.pop(0)
    return reading
