"""Article extraction (`spiders.parsing.extract`) and `yuqing extract`: charsets as declared and as they really are,
site rules for the portals, trafilatura for other sites, and clear errors for what cannot be read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.cli import app
from config.env import PROJECT_ROOT
from pipeline.items import SHANGHAI
from pipeline.replay import ReplayServer
from spiders.parsing.extract import ExtractError, decode_html, extract, normalise_charset, site_rule_for

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
PEOPLE = FIXTURES / "people"
WINDOW = PEOPLE / "article_40630118.html"  # 经开区 service window, new template, GBK
DRILL = PEOPLE / "article_40630071.html"  # 台前县 flood drill, old template, GBK with 喆 and 䶮
SAVED = PEOPLE / "saved" / "article_40630118_browser_saved.html"  # UTF-8 bytes declaring GB2312
COUNTY = FIXTURES / "extract" / "county_gov_article.html"  # no site rule covers it
IFENG = FIXTURES / "ifeng" / "article_8pQy3Vb2kXz.html"
NETEASE = FIXTURES / "netease" / "article_KH7Q2C4R000189FH.html"
SOHU = FIXTURES / "sohu" / "article_902118734.html"
WINDOW_URL = "http://henan.people.com.cn/n2/2026/1123/c351638-40630118.html"
WINDOW_FIRST = "人民网郑州11月23日电 11月22日晚，濮阳经济技术开发区纪工委发布情况通报"


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


# Charsets ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("GB_2312-80", "gb18030"),
        ("UTF8", "utf-8"),
        ("'utf-8'", "utf-8"),
        ("nonsense-charset", None),
        (None, None),
    ],
)
def test_charset_labels(label, expected):
    assert normalise_charset(label) == expected


def test_a_gbk_page_declaring_gb2312_reads_as_gb18030():
    decoded = decode_html(DRILL.read_bytes())
    assert decoded.encoding == "gb18030"
    assert decoded.declared == "GB2312"
    assert not decoded.mislabelled
    assert "王喆、宋䶮" in decoded.text  # 喆 is GBK only, 䶮 GB18030 only: GB2312 would lose both
    assert "\ufffd" not in decoded.text


def test_utf8_bytes_under_a_gb2312_label_are_read_as_utf8():
    decoded = decode_html(SAVED.read_bytes())
    assert decoded.encoding == "utf-8"
    assert decoded.mislabelled
    assert WINDOW_FIRST in decoded.text


def test_gbk_bytes_labelled_utf8_by_the_server_are_read_as_gbk():
    decoded = decode_html(WINDOW.read_bytes(), declared="utf-8")
    assert decoded.encoding == "gb18030"
    assert decoded.mislabelled
    assert WINDOW_FIRST in decoded.text


def test_bytes_no_charset_reads_are_replaced_and_counted():
    body = "<html><body><p>濮阳县</p></body></html>".encode() + b"\xff\xfe\xff"
    decoded = decode_html(body, declared="utf-8")
    assert decoded.replaced > 0
    assert "濮阳县" in decoded.text


def test_a_byte_order_mark_wins():
    decoded = decode_html(b"\xef\xbb\xbf<html><body>\xe6\xbf\xae\xe9\x98\xb3</body></html>", declared="gbk")
    assert decoded.encoding == "utf-8"
    assert "濮阳" in decoded.text


# Site rules ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://henan.people.com.cn/n2/2026/1123/c351638-40630118.html", "people"),
        ("https://www.163.com/news/article/KH7Q2C4R000189FH.html", "netease"),
        ("https://www.sohu.com/a/902118734_121106991", "sohu"),
        ("https://news.ifeng.com/c/8pQy3Vb2kXz", "ifeng"),
        ("https://news.sina.com.cn/s/2026-11-23/doc-inhysupf2818662.shtml", "sina"),
        ("https://www.notpeople.com.cn/x.html", None),
        ("http://www.qingfeng.gov.cn/xwzx/1.html", None),
    ],
)
def test_hosts_pick_their_rules(url, rule):
    found = site_rule_for(url)
    assert (found.name if found else None) == rule


def test_a_people_page_by_its_rules():
    result = extract(WINDOW.read_bytes(), WINDOW_URL)
    assert result.extractor == "site:people"
    assert result.title == "濮阳经开区纪工委通报政务服务窗口“吃拿卡要”问题调查进展"
    assert result.published_at == sh(2026, 11, 23, 8, 48)
    assert result.media == "人民网－河南频道"
    assert result.author == "李昊、张文"
    assert result.text.startswith(WINDOW_FIRST)
    assert len(result.text.split("\n")) == 3
    for furniture in ("责编", "热门推荐", "人民网首页", "版权所有", "分享到", "_content_id"):
        assert furniture not in result.text
    assert result.notes == ()


def test_the_older_people_template():
    result = extract(DRILL.read_bytes(), "http://henan.people.com.cn/n2/2026/1123/c351647-40630071.html")
    assert result.title == "台前县开展黄河冬季防凌应急演练"
    assert result.published_at == sh(2026, 11, 23, 8, 12)
    assert result.media == "人民网-河南频道"
    assert result.author == "王喆、宋䶮"
    assert "返回河南频道" not in result.text
    assert result.text.count("\n") == 1


@pytest.mark.parametrize(
    ("path", "title", "published", "media", "author"),
    [
        (
            NETEASE,
            "濮阳华龙区一小学食堂饭菜被指有异味 区教育局：已封存食材送检",
            sh(2026, 11, 23, 8, 46, 21),
            "顶端新闻",
            "郭琳",
        ),
        (SOHU, "范县货车与面包车相撞致3死2伤 当地成立事故调查组", sh(2026, 11, 23, 8, 52), "濮阳网", "王莹"),
        (
            IFENG,
            "南乐县元村镇拆迁户：补偿还没谈拢，房子夜里被推了",
            sh(2026, 11, 23, 8, 44, 51),
            "凤凰网河南",
            "刘畅",
        ),
    ],
)
def test_portal_pages_read_from_a_file_find_their_rule_by_their_own_address(
    path, title, published, media, author
):
    result = extract(path.read_bytes())
    assert result.extractor.startswith("site:")
    assert result.url.startswith("https://")
    assert (result.title, result.published_at, result.media, result.author) == (
        title,
        published,
        media,
        author,
    )
    for furniture in ("返回搜狐", "责任编辑", "相关推荐", "举报", "24小时热文", "Copyright", "allData"):
        assert furniture not in result.text


def test_a_mislabelled_saved_page_finds_its_rule_from_the_saved_from_note():
    result = extract(SAVED.read_bytes())
    assert result.url == WINDOW_URL
    assert result.extractor == "site:people"
    assert result.encoding == "utf-8"
    assert result.text.startswith(WINDOW_FIRST)
    assert result.notes == ("网页声明的编码是 GB2312，实际是 utf-8（已按实际编码读取）",)


def test_an_unknown_site_goes_to_the_generic_reader_which_says_how_it_found_each_field():
    result = extract(COUNTY.read_bytes(), "http://www.qingfeng.gov.cn/xwzx/qfyw/2026-11/23/content_1187.html")
    assert result.extractor == "reader"
    assert result.how == {
        "title": "正文上方最近的标题 h1.title，与网页标题<title>一致",
        "time": "标题下方最近印出的时间「2026-11-23 09:12」",
        "body": "文字密度最高的区块 div.content.TRS_Editor（4 段，265 字）",
    }
    assert result.title == "清丰县督促解决城南住宅项目农民工工资问题"
    assert result.published_at == sh(2026, 11, 23, 9, 12)
    assert result.media == "清丰县人力资源和社会保障局"
    paragraphs = result.text.split("\n")
    assert paragraphs[0].startswith("11月22日，清丰县人力资源和社会保障局会同县住房和城乡建设局")
    assert len(paragraphs) == 4
    for furniture in ("当前位置", "相关文章", "网站标识码", "无障碍", "浏览次数", "分享到"):
        assert furniture not in result.text


def test_when_the_site_rule_finds_no_body_the_generic_reader_reads_it_and_says_so():
    html = WINDOW.read_bytes().decode("gb18030").replace('class="rm_txt_con cf"', 'class="article-body"')
    result = extract(html.encode("gb18030"), WINDOW_URL)
    assert result.extractor == "reader"
    assert result.how["body"].startswith("文字密度最高的区块 div.article-body")
    assert WINDOW_FIRST in result.text
    assert result.title == "濮阳经开区纪工委通报政务服务窗口“吃拿卡要”问题调查进展"  # from the rule
    assert result.media == "人民网－河南频道"
    rule_failed = (
        "people 网站规则未找到正文（页面上没有 div#rwb_zw、div.rm_txt_con 中的任何一个），已改用通用读法"
    )
    assert result.notes == (rule_failed,)


def test_a_page_without_an_article_is_an_error_naming_it():
    with pytest.raises(ExtractError) as raised:
        extract(b"<html><head><title>404</title></head><body><p>Not Found</p></body></html>", "http://x.cn/a")
    assert "http://x.cn/a" in str(raised.value)
    assert "通用提取找到的正文不足 100 字" in str(raised.value)


# yuqing extract ------------------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(app, ["extract", *args])


def test_cli_on_a_gbk_file():
    result = run(str(DRILL), "--url", "http://henan.people.com.cn/n2/2026/1123/c351647-40630071.html")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "台前县开展黄河冬季防凌应急演练"
    assert data["published_at"] == "2026-11-23T08:12:00+08:00"
    assert data["encoding"] == "gb18030"
    assert data["author"] == "王喆、宋䶮"
    assert set(data) == {
        "url",
        "title",
        "text",
        "published_at",
        "media",
        "author",
        "encoding",
        "declared_charset",
        "extractor",
        "how",
        "notes",
    }


def test_cli_on_a_mislabelled_file_notes_it_on_stderr():
    result = run(str(SAVED))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"].startswith(WINDOW_FIRST)
    assert "提示：网页声明的编码是 GB2312，实际是 utf-8" in result.stderr


def test_cli_on_a_page_of_an_unknown_site():
    result = run(str(COUNTY))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["extractor"] == "reader"
    assert "拖欠金额约112万元" in data["text"]


def test_cli_on_a_missing_file_fails_with_the_path():
    missing = PROJECT_ROOT / "tests" / "fixtures" / "extract" / "no_such_page.html"
    result = run(str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{missing}: 无法读取文件：No such file or directory" in " ".join(result.stderr.split())


def test_cli_on_a_page_with_no_article_fails(tmp_path: Path):
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><p>页面不存在</p></body></html>", encoding="utf-8")
    result = run(str(empty))
    assert result.exit_code == 1
    assert "错误：" in result.stderr
    assert "通用提取找到的正文不足 100 字" in result.stderr


def test_the_command_fetches_a_url_whose_server_says_one_charset_and_sends_another():
    """The command in its own process over real HTTP: the replay server answers GBK bytes labelled UTF-8."""
    index = {
        "responses": [
            {
                "url": WINDOW_URL,
                "file": "page.html",
                "status": 200,
                "headers": {"Content-Type": "text/html; charset=utf-8"},
            }
        ]
    }
    with ReplayServer(_one_page_dir(index)) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "commands.cli",
                "extract",
                server.url_for(WINDOW_URL),
                "--url",
                WINDOW_URL,
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["extractor"] == "site:people"
        assert data["declared_charset"] == "utf-8"
        assert data["encoding"] == "gb18030"
        assert data["text"].startswith(WINDOW_FIRST)
        assert "网页声明的编码是 utf-8，实际是 gb18030" in done.stderr

        refused = run(server.url_for("http://gone.example.cn/a.html"))
        assert refused.exit_code == 1
        assert "无法下载：HTTP 404" in refused.stderr


def _one_page_dir(index: dict) -> Path:
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="extract-"))
    (directory / "page.html").write_bytes(WINDOW.read_bytes())
    (directory / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return directory


# Site rules an office writes in sources.yaml ---------------------------------------------------------------

PUYANG_PAGE = FIXTURES / "local_gov" / "article_t20261120_2045811.html"
PUYANG_URL = "https://www.puyang.gov.cn/zwdt/202611/t20261120_2045811.html"


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped config folder, in force for the command."""
    import shutil

    from config.loader import DEFAULT_DIR

    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(folder))
    return folder


def _with_site_rules(folder: Path, rules: str) -> None:
    sources = folder / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text[: text.index("site_rules:")] + rules, encoding="utf-8")


def test_a_rule_tested_on_its_page_names_the_selector_behind_each_field(office: Path):
    result = run(str(PUYANG_PAGE), "--rule", "puyang_gov")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["extractor"] == "site:puyang_gov"
    assert data["title"] == "濮阳经开区第四季度重点项目集中开工"
    assert data["published_at"] == "2026-11-20T10:40:00+08:00"
    assert data["author"] == "濮阳经济技术开发区管理委员会"
    assert data["how"] == {
        "title": "网站规则 puyang_gov 的标题选择器 h1.article-title::text",
        "time": "网站规则 puyang_gov 的时间选择器 meta[name=PubDate]::attr(content)（「2026-11-20 10:40」）",
        "author": "网站规则 puyang_gov 的作者选择器 meta[name=ContentSource]::attr(content)",
        "body": "网站规则 puyang_gov 的正文选择器 #zoom .TRS_Editor（2 段，121 字）",
    }
    assert result.stderr == ""


def test_a_site_rule_applies_to_its_own_host_without_being_named(office: Path):
    assert json.loads(run(str(PUYANG_PAGE), "--url", PUYANG_URL).stdout)["extractor"] == "site:puyang_gov"
    elsewhere = json.loads(run(str(PUYANG_PAGE), "--url", "https://www.qingfeng.gov.cn/a.html").stdout)
    assert elsewhere["extractor"] == "reader"
    assert elsewhere["text"].startswith("11月20日上午，濮阳经开区举行第四季度重点项目集中开工活动")


def test_a_generic_sources_article_selectors_can_be_tested_by_its_name(office: Path):
    result = run(str(PUYANG_PAGE), "--rule", "puyang_gov_zwdt")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["how"]["body"].startswith(
        "网站规则 puyang_gov_zwdt 的正文选择器 #zoom .TRS_Editor"
    )


def test_a_rule_the_site_outgrew_fails_naming_each_selector_and_the_reader_still_reads(office: Path):
    _with_site_rules(
        office,
        "site_rules:\n"
        "  - name: puyang_old\n"
        "    hosts: [puyang.gov.cn]\n"
        "    title: h2.biaoti::text\n"
        "    time: span.date::text\n"
        "    body: [div.zhengwen, '//div[@id=\"content\"]']\n",
    )
    result = run(str(PUYANG_PAGE), "--rule", "puyang_old")
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())
    assert "网站规则 puyang_old：标题选择器 h2.biaoti::text 都没有找到文字，已改用通用读法" in stderr
    assert "网站规则 puyang_old：时间选择器 span.date::text 都没有找到文字，已改用通用读法" in stderr
    assert (
        '网站规则 puyang_old：正文选择器 div.zhengwen、//div[@id="content"] 都没有找到元素，已改用通用读法'
        in stderr
    )
    data = json.loads(result.stdout)
    assert data["extractor"] == "reader"
    assert data["title"] == "濮阳经开区第四季度重点项目集中开工"
    assert data["published_at"] == "2026-11-20T10:40:00+08:00"


def test_an_unknown_rule_is_refused_with_the_rules_there_are(office: Path):
    result = run(str(PUYANG_PAGE), "--rule", "puyang")
    assert result.exit_code == 2
    assert (
        f"{office / 'sources.yaml'} 里没有名为「puyang」的网站规则；现有：puyang_gov、puyang_gov_zwdt"
        in result.stderr
    )


def test_a_bad_site_rule_is_refused_naming_its_line_and_other_pages_still_read(office: Path):
    _with_site_rules(office, "site_rules:\n  - name: x\n    hosts: ['http://www.x.gov.cn/']\n    body: div\n")
    refused = run(str(PUYANG_PAGE), "--rule", "x")
    assert refused.exit_code == 2
    message = "".join(refused.stderr.split())
    assert "sources.yaml:" in message
    assert "「http://www.x.gov.cn/」不是网站域名" in message
    # Without --rule the page is still read, and the broken file is named.
    read = run(str(PUYANG_PAGE))
    assert read.exit_code == 0
    assert "本次不用site_rules" in "".join(read.stderr.split())
