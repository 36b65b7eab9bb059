"""The `Store` contract, held to both implementations: embedded SQLite and a real Elasticsearch node."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from classifiers.types import Level, Polarity, RuleHit, Severity, Territory
from pipeline.items import (
    Analysis,
    AuthorKind,
    Counts,
    EventScope,
    Post,
    Responsible,
    Source,
    Truncation,
    to_dict,
)
from pipeline.store.base import Store
from pipeline.store.elasticsearch import ElasticsearchStore, load_template_body
from pipeline.store.sqlite import SqliteStore

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def make_post(native_id: str, tokens: list[str], *, published_at: datetime = NOW, **overrides: Any) -> Post:
    fields: dict[str, Any] = {
        "id": Post.make_id(Source.WEIBO, native_id),
        "source": Source.WEIBO,
        "url": f"https://weibo.com/1234567890/{native_id}",
        "text": "".join(tokens),
        "published_at": published_at,
        "crawled_at": NOW,
        "analysis": Analysis(tokens=tokens),
    }
    fields.update(overrides)
    return Post(**fields)


def full_post() -> Post:
    """A post with every field filled, Chinese and emoji included, as it leaves the locate stage."""
    tokens = ["濮阳县", "化工厂", "夜间", "排污", "😡", "#濮阳身边事#", "covid-19"]
    return Post(
        id="weibo:N9xKq2",
        source=Source.WEIBO,
        url="https://weibo.com/1234567890/N9xKq2?from=page_100505&mod=TAB#cmtfrm",
        title="濮阳县某化工厂夜间偷排？村民：“味道呛人”",
        text='#濮阳身边事# 濮阳县某化工厂夜间排污，村民反映味道呛人😡 \\ 引号“”"和换行\n都要原样保存',
        author="濮阳热心市民·小王",
        author_kind=AuthorKind.VERIFIED,
        media="微博",
        published_at=datetime.fromisoformat("2026-11-22T23:41:07.250000+08:00"),
        crawled_at=datetime.fromisoformat("2026-11-23T01:02:03+08:00"),
        counts=Counts(reposts=12, comments=345, likes=6789, reads=3_000_000_000),
        ip_location="河南",
        author_location="河南 濮阳",
        parent_id="weibo:N9xAAA",
        repost_of="weibo:N9xBBB",
        images=["https://wx1.sinaimg.cn/large/0077abcdly1hzz0000001j30u0140.jpg"],
        has_video=True,
        raw_ref="var/raw/weibo/2026-11-23/N9xKq2.json",
        analysis=Analysis(
            words=["濮阳县", "化工厂", "夜间", "排污"],
            tokens=tokens,
            sentiment=0.0312,
            polarity=Polarity.NEGATIVE,
            rules=[
                RuleHit(
                    id="env-001", name="环境污染", category="生态环境", weight=2.5, terms=("化工厂", "排污")
                ),
                RuleHit(id="mood-002", name="群众情绪", category="社会稳定", weight=1.0, terms=("呛人",)),
            ],
            severity=Severity(
                level=Level.SENSITIVE, score=7.25, reasons=("命中 环境污染 ×2", "认证用户，转评 357")
            ),
            territory=Territory(
                province="河南省",
                city="濮阳市",
                counties=("濮阳县",),
                townships=("文留镇", "柳屯镇"),
                confidence=0.92,
                reasons=("正文提到 濮阳县", "IP属地 河南"),
            ),
            departments=["生态环境", "应急管理"],
            department_reasons=["生态环境: 「排污」", "应急管理: 「呛人」"],
            responsible=Responsible(
                level=Level.SENSITIVE,
                first=["濮阳县生态环境分局"],
                coordinate=["濮阳县人民政府办公室", "中共濮阳县委宣传部"],
                claim=["中共濮阳县委宣传部"],
                inform=["濮阳市生态环境局"],
                reasons=["涉及一个县区：属地为主（附件2 第六条）"],
            ),
            spam=False,
            spam_reasons=[],
            event_id="evt-20261123-濮阳县-化工厂",
            event=EventScope(posts=3, counties=["濮阳县", "清丰县"], departments=["生态环境", "应急管理"]),
            truncated=Truncation(
                analysed=20_000, total=31_250, note="全文 31,250 字，只分析并保存了前 20,000 字"
            ),
        ),
    )


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "posts.sqlite3")
        yield sqlite
        sqlite.close()
        return
    es_url = request.getfixturevalue("es_url")
    client = request.getfixturevalue("es_client")
    index = f"test-posts-{uuid.uuid4().hex[:12]}"
    es = ElasticsearchStore(es_url, index, spool_dir=tmp_path / "spool")
    yield es
    es.close()
    assert not es.spool.pending(), "a contract test left posts in the spool"
    client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.delete_index_template(name=index)


def ids(hits: list[Any]) -> list[str]:
    return [hit.id for hit in hits]


def test_a_written_post_comes_back_with_every_field_unchanged(store: Store) -> None:
    post = full_post()
    result = store.write([post])
    assert (result.written, result.spooled, result.errors) == (1, 0, [])
    assert store.get(post.id) == to_dict(post)


def test_get_of_an_unknown_id_is_none(store: Store) -> None:
    store.write([make_post("a", ["化工厂"])])
    assert store.get("weibo:does-not-exist") is None


def test_rewriting_an_id_replaces_the_post_and_never_duplicates_it(store: Store) -> None:
    store.write([make_post("a", ["化工厂", "排污"], text="初稿"), make_post("b", ["学校"])])
    store.write([make_post("a", ["化工厂", "关停"], text="更新后的正文", counts=Counts(likes=99))])
    store.refresh()

    assert store.count() == 2
    doc = store.get("weibo:a")
    assert doc is not None
    assert doc["text"] == "更新后的正文"
    assert doc["counts"]["likes"] == 99
    assert ids(store.search(["关停"])) == ["weibo:a"]
    assert store.search(["排污"]) == []


def test_the_same_post_twice_in_one_batch_keeps_the_last(store: Store) -> None:
    store.write([make_post("a", ["旧"], text="旧"), make_post("a", ["新"], text="新")])
    store.refresh()
    assert store.count() == 1
    assert store.get("weibo:a")["text"] == "新"


def test_count_of_an_empty_store_is_zero(store: Store) -> None:
    store.refresh()
    assert store.count() == 0
    assert store.search(["化工厂"]) == []


def test_search_finds_posts_holding_every_term(store: Store) -> None:
    store.write(
        [
            make_post("a", ["濮阳县", "化工厂", "排污"]),
            make_post("b", ["清丰县", "学校", "食堂"]),
            make_post("c", ["化工", "工厂"]),
        ]
    )
    store.refresh()

    assert ids(store.search(["化工厂"])) == ["weibo:a"]
    assert ids(store.search(["濮阳县", "排污"])) == ["weibo:a"]
    assert store.search(["化工厂", "不存在"]) == []
    assert ids(store.search(["化工"])) == ["weibo:c"]
    assert store.search([]) == []


def test_search_keeps_each_token_whole(store: Store) -> None:
    store.write([make_post("a", ["covid-19", "3.15", "晚会", "阿卜杜·克里木", "#濮阳身边事#", "😡"])])
    store.refresh()

    for term in ["covid-19", "3.15", "阿卜杜·克里木", "#濮阳身边事#", "😡"]:
        assert ids(store.search([term])) == ["weibo:a"], term
    for part in ["covid", "19", "3", "阿卜杜", "濮阳身边事"]:
        assert store.search([part]) == [], part


def test_search_terms_are_never_read_as_query_syntax(store: Store) -> None:
    store.write([make_post("a", ["化工厂", "or", "not", '"引号"', "*"])])
    store.refresh()
    assert ids(store.search(['"引号"'])) == ["weibo:a"]
    assert ids(store.search(["not", "化工厂"])) == ["weibo:a"]
    assert ids(store.search(["*"])) == ["weibo:a"]
    assert store.search(["化工厂", "NEAR(x)"]) == []
    assert store.search(["化工*"]) == []


def test_search_ranks_the_closer_match_first(store: Store) -> None:
    store.write(
        [
            make_post("mention", ["化工厂", "排污", "濮阳县", "信访", "群众", "投诉", "噪音", "夜间"]),
            make_post("focus", ["化工厂", "化工厂", "排污"], published_at=NOW - timedelta(days=3)),
        ]
    )
    store.refresh()

    hits = store.search(["化工厂"])
    assert ids(hits) == ["weibo:focus", "weibo:mention"]
    assert hits[0].score > hits[1].score


def test_equal_matches_come_newest_first(store: Store) -> None:
    tokens = ["濮阳县", "化工厂", "排污"]
    store.write(
        [
            make_post("old", tokens, published_at=NOW - timedelta(hours=5)),
            make_post("newest", tokens, published_at=NOW),
            make_post("middle", tokens, published_at=NOW - timedelta(hours=1)),
        ]
    )
    store.refresh()

    hits = store.search(["化工厂", "排污"])
    assert ids(hits) == ["weibo:newest", "weibo:middle", "weibo:old"]
    assert hits[0].score == pytest.approx(hits[2].score)


def test_newest_first_compares_instants_across_time_zones(store: Store) -> None:
    tokens = ["化工厂"]
    store.write(
        [
            # 09:30 in Shanghai is 01:30 UTC: later than 01:00 UTC despite the smaller clock reading.
            make_post("utc", tokens, published_at=datetime.fromisoformat("2026-11-23T01:00:00+00:00")),
            make_post("shanghai", tokens, published_at=datetime.fromisoformat("2026-11-23T09:30:00+08:00")),
        ]
    )
    store.refresh()
    assert ids(store.search(tokens)) == ["weibo:shanghai", "weibo:utc"]


def test_search_returns_the_documents_and_respects_the_limit(store: Store) -> None:
    store.write([make_post(f"p{i}", ["化工厂"], published_at=NOW - timedelta(minutes=i)) for i in range(7)])
    store.refresh()

    hits = store.search(["化工厂"], limit=3)
    assert ids(hits) == ["weibo:p0", "weibo:p1", "weibo:p2"]
    assert hits[0].doc == store.get("weibo:p0")


def test_mapping_covers_every_field_of_a_post() -> None:
    """Unmapped fields are kept in _source but not searchable; a new Post field must be mapped on purpose."""
    mapped = set(_mapped_paths(load_template_body()["mappings"]["properties"]))
    stored = set(_doc_paths(to_dict(full_post())))
    assert stored - mapped == set()


@pytest.mark.elasticsearch
def test_the_index_is_created_from_the_template(es_url: str, es_client: Any, tmp_path: Path) -> None:
    index = f"test-posts-{uuid.uuid4().hex[:12]}"
    store = ElasticsearchStore(es_url, index, spool_dir=tmp_path)
    try:
        mapping = es_client.indices.get_mapping(index=index)[index]["mappings"]
        tokens = mapping["properties"]["analysis"]["properties"]["tokens"]
        assert tokens == {"type": "text", "analyzer": "whitespace"}
        assert mapping["properties"]["published_at"]["type"] == "date"
        assert mapping["dynamic"] == "false"
    finally:
        store.close()
        es_client.indices.delete(index=index, ignore_unavailable=True)
        es_client.options(ignore_status=404).indices.delete_index_template(name=index)


def _mapped_paths(properties: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, spec in properties.items():
        yield prefix + name
        if "properties" in spec:
            yield from _mapped_paths(spec["properties"], f"{prefix}{name}.")


def _doc_paths(doc: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, value in doc.items():
        yield prefix + name
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                yield from _doc_paths(item, f"{prefix}{name}.")


def test_a_post_crawled_again_is_found_once_with_its_new_tokens(store: Store) -> None:
    for text in ("初稿", "二稿", "定稿"):  # three crawls of the same post, each its own batch
        store.write([make_post("a", ["化工厂", text], text=text), make_post(f"other-{text}", ["学校"])])
    store.refresh()

    assert ids(store.search(["化工厂"])) == ["weibo:a"]
    assert ids(store.search(["定稿"])) == ["weibo:a"]
    assert store.search(["初稿"]) == []
    assert store.count() == 4


def test_a_limited_search_is_the_head_of_the_full_ranking(store: Store) -> None:
    """Hundreds of posts (reposts of one text) tie on score across the limit: the newest of them must
    still come first, however many of them there are."""
    posts = [
        make_post(f"tie{i:03}", ["化工厂", "排污", "投诉"], published_at=NOW - timedelta(minutes=7 * i % 331))
        for i in range(300)
    ]
    posts += [
        make_post(f"focus{i}", ["化工厂", "化工厂", "排污"], published_at=NOW - timedelta(days=i))
        for i in range(3)
    ]
    posts += [make_post(f"far{i}", ["化工厂", *["群众"] * (5 + i)]) for i in range(10)]
    store.write(posts)
    store.refresh()

    full = store.search(["化工厂"], limit=1000)
    assert len(full) == 313
    assert ids(full[:3]) == ["weibo:focus0", "weibo:focus1", "weibo:focus2"]
    order = [
        (-hit.score, -datetime.fromisoformat(hit.doc["published_at"]).timestamp(), hit.id) for hit in full
    ]
    assert order == sorted(order)
    for limit in (1, 3, 4, 10, 20, 199, 200, 201, 303, 304):
        assert ids(store.search(["化工厂"], limit=limit)) == ids(full[:limit]), limit


def test_filters_narrow_the_posts_and_keep_their_order(store: Store) -> None:
    def level(value: Level) -> Analysis:
        return Analysis(tokens=["化工厂"], severity=Severity(level=value, score=1.0, reasons=()))

    store.write(
        [
            make_post("new", [], published_at=NOW, analysis=level(Level.SENSITIVE)),
            make_post("old", [], published_at=NOW - timedelta(days=40), analysis=level(Level.SENSITIVE)),
            make_post("calm", [], published_at=NOW - timedelta(hours=1), analysis=level(Level.GENERAL)),
            make_post("unjudged", ["化工厂"], published_at=NOW - timedelta(hours=2)),
            make_post(
                "tieba",
                [],
                id="tieba:t1",
                source=Source.TIEBA,
                published_at=NOW - timedelta(hours=3),
                analysis=level(Level.SENSITIVE),
            ),
        ]
    )
    store.refresh()
    month_ago = NOW - timedelta(days=30)

    assert ids(store.search(["化工厂"], since=month_ago)) == [
        "weibo:new",
        "weibo:calm",
        "weibo:unjudged",
        "tieba:t1",
    ]
    assert ids(store.search(["化工厂"], until=month_ago)) == ["weibo:old"]
    # `until` is the first instant left out, as the end of a day is the start of the next.
    assert ids(store.search(["化工厂"], since=NOW - timedelta(hours=1), until=NOW)) == ["weibo:calm"]
    assert ids(store.search(["化工厂"], sources=["tieba"])) == ["tieba:t1"]
    assert ids(store.search(["化工厂"], levels=[Level.SENSITIVE], since=month_ago)) == [
        "weibo:new",
        "tieba:t1",
    ]
    assert ids(store.search(["化工厂"], levels=[Level.GENERAL, Level.MAJOR_EMERGENCY])) == ["weibo:calm"]
    assert store.search(["化工厂"], sources=["weixin"]) == []


def test_a_filter_that_only_poorly_ranked_posts_pass_still_finds_them(store: Store) -> None:
    """The best matches all fail the filter: the ones that pass rank far down and must still come back."""
    strong = [make_post(f"s{i:03}", ["化工厂", "化工厂"]) for i in range(260)]
    weak = [
        make_post(f"w{i}", ["化工厂", *["群众"] * (3 + i)], id=f"tieba:w{i}", source=Source.TIEBA)
        for i in range(3)
    ]
    store.write(strong + weak)
    store.refresh()

    hits = store.search(["化工厂"], sources=["tieba"], limit=2)
    assert ids(hits) == ["tieba:w0", "tieba:w1"]
    assert ids(store.search(["化工厂"], sources=["tieba"])) == ["tieba:w0", "tieba:w1", "tieba:w2"]
    assert len(store.search(["化工厂"], sources=["weibo"], limit=300)) == 260


@pytest.mark.elasticsearch
def test_an_index_made_by_an_older_version_gets_the_new_fields(
    es_url: str, es_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`analysis.event`, `responsible.level` and `truncated` came later: an index made before them gets
    them mapped at start, so posts written from then on are searchable on them."""
    index = f"test-posts-{uuid.uuid4().hex[:12]}"
    mappings = load_template_body()["mappings"]
    analysis = mappings["properties"]["analysis"]["properties"]
    del analysis["event"], analysis["truncated"], analysis["responsible"]["properties"]["level"]
    es_client.indices.create(index=index, mappings=mappings)
    post = full_post()
    queries = [
        {"term": {"analysis.event.counties": "清丰县"}},
        {"term": {"analysis.responsible.level": "复杂敏感事件"}},
        {"range": {"analysis.truncated.total": {"gte": 31_250}}},
    ]
    try:
        es_client.index(index=index, id=post.id, document=to_dict(post), refresh=True)
        for query in queries:
            assert es_client.count(index=index, query=query)["count"] == 0, query

        with caplog.at_level(logging.INFO, logger="pipeline.store.elasticsearch"):
            store = ElasticsearchStore(es_url, index, spool_dir=tmp_path)
        mapping = es_client.indices.get_mapping(index=index)[index]["mappings"]
        assert set(_doc_paths(to_dict(post))) - set(_mapped_paths(mapping["properties"])) == set()
        assert "analysis.event、analysis.event.counties" in caplog.text
        assert not store.spool.pending()

        assert store.write([post]).written == 1
        store.refresh()
        for query in queries:
            assert es_client.count(index=index, query=query)["count"] == 1, query
        store.close()
    finally:
        es_client.indices.delete(index=index, ignore_unavailable=True)
        es_client.options(ignore_status=404).indices.delete_index_template(name=index)


@pytest.mark.elasticsearch
def test_a_field_whose_type_changed_is_reported_and_writing_goes_on(
    es_url: str, es_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = f"test-posts-{uuid.uuid4().hex[:12]}"
    mappings = load_template_body()["mappings"]
    mappings["properties"]["author"] = {"type": "text"}  # a type that cannot become keyword in place
    del mappings["properties"]["analysis"]["properties"]["truncated"]
    es_client.indices.create(index=index, mappings=mappings)
    try:
        with caplog.at_level(logging.ERROR, logger="pipeline.store.elasticsearch"):
            store = ElasticsearchStore(es_url, index, spool_dir=tmp_path)
        assert "无法就地更新" in caplog.text
        assert "analysis.truncated" in caplog.text
        assert store.write([full_post()]).written == 1
        store.close()
    finally:
        es_client.indices.delete(index=index, ignore_unavailable=True)
        es_client.options(ignore_status=404).indices.delete_index_template(name=index)


def rule_query(typed: str) -> Any:
    from classifiers.search_query import parse_search
    from classifiers.tokenise import Tokeniser

    return parse_search(typed, Tokeniser(["化工厂", "演练", "排污", "停水", "爆炸"]))


def test_a_query_in_the_rules_syntax_finds_exactly_what_the_rule_would(store: Store) -> None:
    store.write(
        [
            make_post("a", ["化工厂", "排污", "化工厂", "排污"], text="化工厂排污", title="化工厂排污"),
            make_post("b", ["化工厂", "排污", "演练"], published_at=NOW - timedelta(hours=1)),
            make_post(
                "c",
                ["情况", "通报", "化工厂", "发生", "爆炸"],
                text="化工厂发生爆炸",
                title="情况通报",
                published_at=NOW - timedelta(hours=2),
            ),
            make_post("d", ["停水"], published_at=NOW - timedelta(hours=3)),
        ]
    )
    store.refresh()

    def found(typed: str) -> set[str]:
        return {hit.id.removeprefix("weibo:") for hit in store.search(rule_query(typed), limit=10)}

    assert found("化工厂 -演练") == {"a", "c"}  # a word to leave out is left out, not looked for
    assert found("化工厂 NOT 演练") == {"a", "c"}
    assert found("(排污|停水) -演练") == {"a", "d"}
    assert found("title:化工厂") == {"a"}  # c says 化工厂 in its text only
    assert found("化工厂 NEAR/2 爆炸") == {"c"}
    assert found("化工厂 NEAR/1 排污") == {"a", "b"}
    assert found('"化工厂排污"') == {"a", "b"}
    assert found("title:通报 爆炸") == {"c"}
    assert found("化工厂 停水") == set()


def test_a_checked_query_reads_past_the_matches_it_leaves_out(store: Store) -> None:
    # 250 drills rank above the one real report: the store reads on until it has found what was asked.
    drills = [
        make_post(f"drill{i}", ["化工厂", "化工厂", "排污", "演练"], published_at=NOW - timedelta(minutes=i))
        for i in range(250)
    ]
    real = make_post("real", ["化工厂", "排污", "这次", "不是", "演习", "而是", "真的", "出了", "事故"])
    store.write([*drills, real])
    store.refresh()

    assert ids(store.search(rule_query("化工厂 排污 -演练"), limit=5)) == ["weibo:real"]
    assert len(store.search(rule_query("化工厂 排污 演练"), limit=220)) == 220
    # Filters still narrow a checked query.
    assert store.search(rule_query("化工厂 排污 -演练"), limit=5, since=NOW + timedelta(minutes=1)) == []


def test_a_checked_query_narrows_by_county_and_polarity_and_can_put_the_newest_first(store: Store) -> None:
    def about(native_id: str, county: str, polarity: Polarity, hours_ago: int, tokens: list[str]) -> Post:
        return make_post(
            native_id,
            tokens,
            published_at=NOW - timedelta(hours=hours_ago),
            analysis=Analysis(
                tokens=tokens,
                polarity=polarity,
                territory=Territory(province="河南省", city="濮阳市", counties=(county,)),
                event_id=f"event:{native_id}",
            ),
        )

    store.write(
        [
            # "old" matches best (the word twice) but is the oldest.
            about("old", "范县", Polarity.NEGATIVE, 5, ["停水", "停水", "三天"]),
            about("new", "范县", Polarity.NEUTRAL, 1, ["停水", "通知", "今天", "检修", "管网"]),
            about("mid", "清丰县", Polarity.NEGATIVE, 3, ["停水", "没人管", "居民", "反映", "情况"]),
        ]
    )
    store.refresh()
    query = rule_query("停水")

    assert ids(store.search(query))[0] == "weibo:old"
    assert ids(store.search(query.narrowed(newest_first=True))) == ["weibo:new", "weibo:mid", "weibo:old"]
    assert ids(store.search(query.narrowed(counties=["范县"], newest_first=True))) == [
        "weibo:new",
        "weibo:old",
    ]
    assert ids(store.search(query.narrowed(polarities=["negative"], newest_first=True))) == [
        "weibo:mid",
        "weibo:old",
    ]
    assert ids(store.search(query.narrowed(counties=["清丰县"], polarities=["neutral"]))) == []
    assert ids(store.search(query.narrowed(newest_first=True), limit=1)) == ["weibo:new"]
    assert ids(store.search(query.narrowed(events=["event:mid"], newest_first=True))) == ["weibo:mid"]
    assert ids(store.search(query.narrowed(events=["event:none"]))) == []


def test_scan_gives_what_a_rule_reads_of_each_recent_post_and_rule_hits_count_them(store: Store) -> None:
    fire = RuleHit(id="fire", name="火灾", category="安全生产", weight=8, terms=("起火",))
    smell = RuleHit(id="smell", name="异味", category="生态环境", weight=3, terms=("异味",))

    def hit(native_id: str, hours_ago: int, rules: list[RuleHit]) -> Post:
        return make_post(
            native_id,
            ["起火", "异味"],
            published_at=NOW - timedelta(hours=hours_ago),
            title=f"标题{native_id}",
            author="热心市民",
            media="大河报",
            analysis=Analysis(tokens=["起火"], rules=rules),
        )

    store.write([hit("a", 1, [fire, smell]), hit("b", 30, [fire]), hit("old", 24 * 9, [fire, smell])])
    store.refresh()

    week = NOW - timedelta(days=7)
    scanned = list(store.scan(week))
    assert [p["id"] for p in scanned] == ["weibo:b", "weibo:a"]  # oldest first, none from before
    assert scanned[1] == {
        "id": "weibo:a",
        "title": "标题a",
        "text": "起火异味",
        "author": "热心市民",
        "source": "weibo",
        "media": "大河报",
    }
    hits = store.rule_hits(week)
    assert {rule: h.posts for rule, h in hits.items()} == {"fire": 2, "smell": 1}
    assert hits["fire"].last == NOW - timedelta(hours=1)
    assert store.rule_hits(NOW - timedelta(hours=24)).keys() == {"fire", "smell"}
    assert store.rule_hits(NOW + timedelta(hours=1)) == {}
