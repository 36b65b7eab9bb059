"""The 领导留言板 spider on tests/fixtures/liuyan: signed POST requests, message and reply posts, paging by
`lastItem`, threads read again when they are answered, and the site's error answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from pipeline.items import SHANGHAI, AuthorKind, validate_post
from spiders.people_liuyan import (
    LIST_PATH,
    PeopleLiuyanSpider,
    list_param,
    parse_thread_list,
    signed_body,
)
from tests.spiders.portals import ROUND_2_AT, Recordings, env, follow, make_spider, stats

# Every test runs with its own data dir and the clock at the first patrol.
pytestmark = pytest.mark.usefixtures(env.__name__)

BOARDS = [
    "https://liuyan.people.com.cn/threads/list?fid=2671",
    "https://liuyan.people.com.cn/threads/list?fid=2672",
]
PLANT = "26391822"  # 柳屯镇 discharge, answered by 濮阳县人民政府
WAGES = "26391704"  # 清丰县 wage arrears, answered only in round 2
LIUYAN = Recordings("liuyan")


def spider(urls=BOARDS, **config) -> PeopleLiuyanSpider:
    return make_spider(PeopleLiuyanSpider, urls, **config)


def patrol(round_: int = 1, urls=BOARDS):
    crawler = spider(urls)
    posts, made = follow(LIUYAN, crawler.first_requests(), round_)
    return crawler, posts, made


def test_requests_are_signed_as_the_site_signs_them():
    # A request the live site accepted, as published with its signature: same path, param and appCode.
    param = {
        "fid": 5050,
        "showUnAnswer": 1,
        "typeId": 5,
        "lastItem": "",
        "position": 1,
        "rows": 10,
        "orderType": 2,
    }
    body = json.loads(signed_body("/v1/threads/list/bw", param))
    assert body["signature"] == "22e8ff231248d4e2774c9d1b523afdf9"
    assert (
        body["param"]
        == '{"fid":5050,"showUnAnswer":1,"typeId":5,"lastItem":"","position":1,"rows":10,"orderType":2}'
    )
    assert (body["appCode"], body["token"]) == ("PC42ce3bfa4980a9", "")
    assert json.loads(signed_body(LIST_PATH, list_param("2671"), "PCother"))["appCode"] == "PCother"


def test_a_list_page():
    entries, usable, errors, last = parse_thread_list(LIUYAN.file("list_fid2671_page1.json").read_bytes())
    assert (len(entries), len(usable), errors, last) == (10, 10, [], "26391102")
    listing, entry = usable[0]
    assert listing.native_id == f"liuyan-{PLANT}"
    assert listing.url == f"https://liuyan.people.com.cn/threads/content?tid={PLANT}"
    assert listing.published_at == datetime(2026, 11, 21, 22, 14, 5, tzinfo=SHANGHAI)
    assert listing.modified_at == datetime(2026, 11, 23, 8, 20, tzinfo=SHANGHAI)  # when it was answered
    assert listing.media == "人民网领导留言板·濮阳市委书记"
    assert (entry["typeName"], entry["domainName"], entry["stateInfo"]) == ("投诉", "环保", "已回复")
    wages = {lst.native_id: lst for lst, _ in usable}[f"liuyan-{WAGES}"]
    assert wages.modified_at == wages.published_at  # not answered yet


def test_first_patrol_reads_both_boards_and_every_answer():
    crawler, posts, made = patrol()
    messages = [p for p in posts if p.parent_id is None]
    replies = [p for p in posts if p.parent_id is not None]
    assert (len(messages), len(replies)) == (13, 7)
    lists = [json.loads(json.loads(r.body)["param"]) for r in made if r.url.endswith(LIST_PATH)]
    assert [(q["fid"], q["lastItem"]) for q in lists] == [("2671", ""), ("2672", ""), ("2671", "26391102")]
    assert stats(crawler) == {}
    assert stats(crawler, "crawl") == {
        "list_pages": 3,
        "too_old": 2,
        "answered": 7,
        "unanswered": 6,
        "posts": 13,
        "replies": 7,
    }
    plant = next(p for p in messages if p.id == f"people:liuyan-{PLANT}")
    assert plant.title == "柳屯镇化工厂夜里偷排废水，河沟发白发臭"
    assert plant.text.startswith("我是濮阳县柳屯镇的村民，村东边的化工厂")
    assert plant.text.endswith("请领导重视。")  # the whole message, not the list's cut-off
    assert plant.author == "李***"
    assert plant.author_kind is AuthorKind.ORDINARY
    assert plant.author_location == "河南省 濮阳市"
    assert plant.counts.comments == 1
    [answer] = [p for p in replies if p.parent_id == plant.id]
    assert answer.id == f"people:liuyan-{PLANT}-reply-1"
    assert answer.author == "濮阳县人民政府"
    assert answer.author_kind is AuthorKind.GOVERNMENT
    assert answer.published_at == datetime(2026, 11, 23, 8, 20, tzinfo=SHANGHAI)
    assert "已责令停产整改并立案调查" in answer.text
    for post in posts:
        assert validate_post(post) is post
        assert post.published_at.utcoffset() == timedelta(hours=8)


def test_second_patrol_reads_new_messages_and_newly_answered_ones(monkeypatch):
    first, _, _ = patrol()
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    _, posts, _ = patrol(2)
    assert sorted(p.id for p in posts) == [
        f"people:liuyan-{WAGES}",
        f"people:liuyan-{WAGES}-reply-1",
        "people:liuyan-26392017",
    ]
    answered = next(p for p in posts if p.id.endswith("-reply-1"))
    assert answered.author == "清丰县人民政府"
    assert "112万元工资已于11月23日全部支付到位" in answered.text


def test_a_board_url_without_fid_is_a_config_problem(caplog):
    crawler = spider(["https://liuyan.people.com.cn/threads/list"])
    assert list(crawler.first_requests()) == []
    assert stats(crawler) == {"bad_config": 1}
    assert "a board URL needs ?fid=<forum id>" in caplog.text


def test_the_sites_error_answer_is_counted_with_its_code(caplog):
    crawler = spider()
    request = next(crawler.first_requests())
    refused = Recordings.response(request, LIUYAN.file("errors/list_bad_signature.json"), {})
    assert list(crawler.parse_list(refused, page=1)) == []
    assert stats(crawler) == {"api_status": 1}
    assert "api_status: https://liuyan.people.com.cn/v1/threads/list/df: code 'SN0006': '数据格式错误'" in (
        caplog.text
    )


def test_a_thread_answer_that_is_not_json_costs_only_that_thread(caplog):
    crawler = spider()
    listing = parse_thread_list(LIUYAN.file("list_fid2671_page1.json").read_bytes())[1][0][0]
    request = crawler.article_request(listing)
    broken = Recordings.response(request, LIUYAN.file("thread_26391822.json"), {}).replace(body=b"<html>502")
    assert list(crawler.parse_thread(broken, listing)) == []
    assert stats(crawler) == {"bad_json": 1}
    assert f"bad_json: {listing.url}: 不是 JSON" in caplog.text
    assert request.method == "POST"
