"""The generic reader (`spiders.parsing.reader`) on the ways long-tail pages go wrong: a site name for a
`<title>`, recommended articles with their own headlines, a long headline cut in `<title>`, the time printed
beside the byline while the metadata has only the day, a time printed without its year, a date in the site's
banner, and captions, bylines and 原标题 lines inside the body. The pages are built here, each after a
template such sites use; every story in them is invented."""

from __future__ import annotations

from datetime import datetime

from pipeline.items import SHANGHAI
from spiders.parsing.reader import read_article

PROSE = (
    (
        "11月22日上午，县卫生健康委员会组织召开冬季传染病防控工作会议，通报近期流感、诺如病毒等疾病流行情况，"
        "部署各医疗机构做好发热门诊、预检分诊和疫苗接种工作。"
    ),
    (
        "会议要求，各乡镇卫生院要落实首诊负责制，发现聚集性疫情两小时内报告；学校、托幼机构要做好晨午检，"
        "落实因病缺勤追踪登记。"
    ),
    (
        "县疾控中心负责人介绍，今年入冬以来全县流感样病例占比较去年同期略有上升，目前疫情总体平稳，"
        "建议老年人、慢性病患者和儿童尽早接种流感疫苗。"
    ),
)


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def page(head: str, body: str) -> str:
    menu = "".join(f'<li><a href="/col/{n}/index.html">栏目{n}</a></li>' for n in range(12))
    paragraphs = "".join(f"<p>{p}</p>" for p in PROSE)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>"
        f"<div class='top'><div class='date'>今天是：2026年11月23日 星期一</div><ul class='nav'>{menu}</ul></div>"
        f"<div class='location'>当前位置：<a href='/'>首页</a> &gt; <a href='/xw/'>新闻中心</a></div>"
        f"{body.replace('{PROSE}', paragraphs)}"
        "<div class='footer'><p>主办：某某县人民政府办公室 承办：县大数据中心 网站标识码：4109220001</p>"
        "<p>豫ICP备05001234号 豫公网安备 41092202000123号</p></div></body></html>"
    )


def test_a_site_name_for_a_title_gives_way_to_the_headline_above_the_body():
    html = page(
        "<title>某某省人民政府网站</title><meta name='SiteName' content='某某省人民政府网站'>",
        "<div class='main'><div class='sitename'><h2>某某省人民政府网站</h2></div>"
        "<div class='article'><h1 class='title'>全省冬季传染病防控工作会议召开</h1>"
        "<div class='info'>发布时间：2026-11-22 16:05 来源：省卫生健康委</div>"
        "<div class='content'>{PROSE}</div></div></div>",
    )
    reading = read_article(html)
    assert reading.title == "全省冬季传染病防控工作会议召开"
    assert reading.how["title"].startswith("正文上方最近的标题 h1.title")


def test_recommended_articles_below_the_body_do_not_give_the_title():
    related = "".join(
        f"<div class='rec'><h3 class='rec-title'><a href='/s?id={n}'>{t}</a></h3></div>"
        for n, t in enumerate(("冬季传染病防控工作会议召开后各地迅速行动", "流感高发季来临专家提醒做好防护"))
    )
    html = page(
        "<title>县里召开冬季传染病防控工作会议</title>",
        "<div class='article-main'><div class='index-module_articleTitle'><h2>县里召开冬季传染病防控工作会议</h2>"
        "</div><div class='author'><span>某某县融媒体中心</span><span class='time'>2026-11-22 17:31</span></div>"
        "<div class='index-module_articleWrap'>{PROSE}</div></div>"
        + f"<div class='recommend'>{related}</div>",
    )
    reading = read_article(html)
    assert reading.title == "县里召开冬季传染病防控工作会议"
    assert reading.published_at == sh(2026, 11, 22, 17, 31)


def test_a_long_headline_cut_in_the_page_title_is_read_whole():
    headline = "某某县卫生健康委员会关于进一步做好今冬明春流感等呼吸道传染病防控和医疗救治工作的通知"
    html = page(
        f"<title>{headline[:24]}..._某某县人民政府</title>",
        f"<div class='detail'><h1>{headline}</h1><p class='meta'>2026年11月22日 10:20</p>"
        "<div class='zoom'>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.title == headline


def test_the_time_printed_beside_the_byline_wins_over_a_day_in_the_metadata():
    html = page(
        "<title>冬季传染病防控工作会议召开_某某县人民政府</title><meta name='PubDate' content='2026-11-22'>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1>"
        "<div class='byline'><span>来源：县卫健委</span> <span>作者：张三</span> <span>2026-11-22 15:40</span></div>"
        "<div class='TRS_Editor'>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.published_at == sh(2026, 11, 22, 15, 40)
    assert reading.how["time"] == "标题下方最近印出的时间「2026-11-22 15:40」"


def test_a_day_printed_without_its_clock_takes_the_clock_of_the_metadata_for_that_day():
    html = page(
        "<title>冬季传染病防控工作会议召开</title><meta name='PubDate' content='2026-11-22 15:40:00'>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>日期：2026-11-22</div>"
        "<div class='TRS_Editor'>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.published_at == sh(2026, 11, 22, 15, 40)
    assert "钟点取自元数据 PubDate" in reading.how["time"]


def test_a_time_printed_without_its_year_takes_the_year_from_the_metadata():
    html = page(
        "<title>冬季传染病防控工作会议召开</title>"
        "<meta property='article:published_time' content='2025-10-08T12:00:00+08:00'>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>某某县融媒 10-08 12:00</div>"
        "<div class='text'>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.published_at == sh(2025, 10, 8, 12, 0)
    assert "年份取自元数据 article:published_time" in reading.how["time"]


def test_a_time_without_its_year_and_no_metadata_takes_the_year_from_the_address():
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>10月08日 12:00</div>"
        "<div class='text'>{PROSE}</div></div>",
    )
    reading = read_article(html, "http://www.example.gov.cn/xwzx/202510/t20251008_123.html")
    assert reading.published_at == sh(2025, 10, 8, 12, 0)


def test_the_date_in_the_site_banner_is_not_the_article_time():
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1>"
        "<div class='TRS_Editor'>{PROSE}</div><div class='bottom'>发布日期：2026-11-20 09:00</div></div>",
    )
    reading = read_article(html)
    assert reading.published_at == sh(2026, 11, 20, 9, 0)  # not the banner's 2026-11-23


def test_captions_bylines_and_original_titles_are_set_aside_from_the_body():
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>2026-11-22 10:20</div>"
        "<div class='content'><p>原标题：我县召开冬季传染病防控工作会议</p>"
        "<p style='text-align:center'><img src='/a.jpg'></p><p style='text-align:center'>会议现场（李四 摄）</p>"
        "{PROSE}<p>记者：王五 通讯员：赵六</p><p>责任编辑：钱七</p></div></div>",
    )
    reading = read_article(html)
    assert reading.paragraphs == list(PROSE)
    assert reading.editor == "钱七"
    assert reading.set_aside == [
        ("原标题", "原标题：我县召开冬季传染病防控工作会议"),
        ("图片说明", "会议现场（李四 摄）"),
        ("署名或来源", "记者：王五 通讯员：赵六"),
        ("编辑署名", "责任编辑：钱七"),
    ]
    chars = sum(map(len, PROSE))
    assert (
        reading.how["body"]
        == f"文字密度最高的区块 div.content（3 段，{chars} 字，另有 4 行署名、图片说明等未算作正文）"
    )


def test_a_body_of_lines_split_by_line_breaks_is_read_line_by_line():
    lines = "<br>".join(PROSE)
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        f"<table><tr><td class='bt'>冬季传染病防控工作会议召开</td></tr><tr><td>2026年11月22日</td></tr>"
        f"<tr><td class='nr'>{lines}</td></tr></table>",
    )
    reading = read_article(html)
    assert reading.title == "冬季传染病防控工作会议召开"
    assert reading.text.replace("\n", "") == "".join(PROSE)
    assert reading.published_at == sh(2026, 11, 22)
    assert "只印了日期" in reading.how["time"]


def test_a_page_without_prose_says_so():
    reading = read_article(page("<title>栏目首页</title>", "<ul><li><a href='/1'>一条新闻</a></li></ul>"))
    assert reading.paragraphs == []
    assert reading.missing


def test_broken_or_empty_pages_say_why_instead_of_raising():
    assert read_article("").missing == "网页无法解析"
    assert read_article("\x00\x01<<<>>>").missing == "网页上没有成段的文字"
    unclosed = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class=article><h1>冬季传染病防控工作会议召开<div>{PROSE}",
    )
    assert read_article(unclosed).paragraphs == list(PROSE)


def test_a_thousand_bold_links_above_the_body_do_not_hide_the_headline():
    sidebar = "".join(
        f"<li><a href='/{n}'><strong>冬季传染病防控工作第{n}项</strong></a></li>" for n in range(1000)
    )
    html = page(
        "<title>冬季传染病防控工作会议召开_某某县人民政府</title>",
        f"<ul class='side'>{sidebar}</ul><h1>冬季传染病防控工作会议召开</h1><div class='zoom'>{{PROSE}}</div>",
    )
    assert read_article(html).title == "冬季传染病防控工作会议召开"


def test_a_reporters_byline_on_its_own_line_is_not_the_first_paragraph():
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>2026-11-22 10:20</div>"
        "<div class='detail_content'><p><strong>某某县融媒体中心记者 李四 王五</strong></p>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.paragraphs == list(PROSE)
    assert reading.set_aside == [("署名或来源", "某某县融媒体中心记者 李四 王五")]


def test_a_long_comment_thread_below_the_article_is_not_taken_for_its_body():
    comments = "".join(
        f"<div class='reply'><p>网友{n}：这个会议开得好，希望各乡镇卫生院真正落实首诊负责制，别走过场，老百姓看病更放心。</p></div>"
        for n in range(30)
    )
    html = page(
        "<title>冬季传染病防控工作会议召开</title>",
        "<div class='article'><h1>冬季传染病防控工作会议召开</h1><div class='info'>2026-11-22 10:20</div>"
        f"<div class='content'>{{PROSE}}</div></div><div id='comment-list'>{comments}</div>",
    )
    assert read_article(html).paragraphs == list(PROSE)


def test_a_title_joined_to_its_column_and_site_by_bare_hyphens_gives_the_headline():
    html = page(
        "<title>冬季传染病防控工作会议召开-综合新闻-新闻中心-某某县人民医院</title>",
        "<div class='detail'><div class='name'>冬季传染病防控工作会议召开</div><div class='info'>2026-11-22 10:20</div>"
        "<div class='detailed'>{PROSE}</div></div>",
    )
    reading = read_article(html)
    assert reading.title == "冬季传染病防控工作会议召开"
    assert reading.published_at == sh(2026, 11, 22, 10, 20)


def test_a_title_naming_only_the_column_gives_way_to_the_heading_above_the_body():
    html = page(
        "<title>评论——某某市纪委监委网站</title>",
        "<div class='daty'><h2 class='tit'>紧盯关键节点 把严的基调一贯到底</h2><div>来源：某某市纪委监委网站</div>"
        "<div>发布时间：</div><div>2026-11-22 07:00</div><div class='share'>分享</div></div>"
        "<div class='content'>{PROSE}</div>",
    )
    reading = read_article(html)
    assert reading.title == "紧盯关键节点 把严的基调一贯到底"
    assert reading.published_at == sh(2026, 11, 22, 7, 0)


def test_markup_inside_a_meta_title_is_not_part_of_the_title():
    html = page(
        "<title>某某市人民政府网</title><meta name='ArticleTitle' content='凝聚强大合力&lt;div&gt;——热烈祝贺市政协会议开幕&lt;/div&gt;'>",
        "<div class='Custom_UnionStyle'>{PROSE}</div>",
    )
    assert read_article(html).title == "凝聚强大合力——热烈祝贺市政协会议开幕"
