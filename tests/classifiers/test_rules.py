import pytest

from classifiers.rules import RuleError, RuleSpec, compile_rules


def match_ids(expr: str, title: str = "", text: str = "", **fields: str) -> list[str]:
    rules = compile_rules([RuleSpec("r", expr, "规则", "测试", 5)])
    return [hit.id for hit in rules.match({"title": title, "text": text, **fields})]


@pytest.mark.parametrize(
    ("expr", "text", "matches"),
    [
        ("排污 偷排", "工厂排污还偷排", True),
        ("排污 偷排", "工厂排污", False),
        ("排污 AND 偷排", "偷排排污", True),
        ("排污|偷排", "偷排", True),
        ("排污 OR 偷排", "没有", False),
        ("拆迁 -演习", "拆迁纠纷", True),
        ("拆迁 -演习", "拆迁演习", False),
        ("拆迁 NOT 演习", "拆迁演习", False),
        ("(爆炸|起火) (死亡|受伤)", "仓库起火致3人受伤", True),
        ("(爆炸|起火) (死亡|受伤)", "仓库起火无人员伤亡", False),
        ('"黄河 大堤"', "黄河 大堤出现渗水", True),
        ('"黄河 大堤"', "黄河大堤", False),
        ("拆迁 NEAR/5 打人", "拆迁现场有人打人", True),
        ("拆迁 NEAR/5 打人", "拆迁工作顺利推进，但在另一个地方有人打人", False),
        ("打人 NEAR/5 拆迁", "拆迁现场有人打人", True),
        ("(强拆|拆迁) NEAR/3 (打人|殴打)", "强拆殴打", True),
        ("PM2.5 超标", "pm2.5严重超标", True),
    ],
)
def test_boolean_syntax(expr: str, text: str, matches: bool) -> None:
    assert (match_ids(expr, text=text) == ["r"]) is matches


def test_field_scope_limits_where_a_term_may_occur() -> None:
    assert match_ids("title:濮阳 排污", title="濮阳通报", text="排污") == ["r"]
    assert match_ids("title:濮阳 排污", title="通报", text="濮阳排污") == []
    assert match_ids("author:濮阳日报", text="x", author="濮阳日报") == ["r"]
    assert match_ids("author:濮阳日报", text="濮阳日报", author="网友") == []


def test_hit_names_the_terms_that_made_it_match() -> None:
    rules = compile_rules([RuleSpec("fire", "(爆炸|起火) 受伤 -演练", "火灾伤人", "安全生产", 9)])
    (hit,) = rules.match({"text": "昨夜仓库起火，两人受伤"})
    assert hit.terms == ("受伤", "起火")
    assert (hit.category, hit.weight) == ("安全生产", 9)


def test_only_rules_whose_terms_occur_are_evaluated_and_all_are_found() -> None:
    specs = [RuleSpec(f"r{i}", f"词{i}号 (甲|乙)") for i in range(2000)]
    rules = compile_rules(specs)
    hits = rules.match({"text": "这里有词7号和词1999号还有乙"})
    assert sorted(h.id for h in hits) == ["r1999", "r7"]


@pytest.mark.parametrize(
    ("expr", "text", "terms"),
    [
        ("(失联|失踪|走失) NEAR/20 (学生|孩子|老人)", "孩子走失了，家人在找", ("孩子", "走失")),
        ("(失联|失踪|走失) NEAR/20 (学生|孩子|老人)", "孩子和老人都在家", None),
        ("((停水|停电) 小区) | 乱收费", "小区停电一天", ("停电", "小区")),
        ("((停水|停电) 小区) | 乱收费", "学校乱收费", ("乱收费",)),
        ("((停水|停电) 小区) | 乱收费", "小区门口", None),
        ("爆炸 (死亡|受伤) -(演练|演习)", "爆炸致一人受伤", ("受伤", "爆炸")),
        ("爆炸 (死亡|受伤) -(演练|演习)", "爆炸演习中一人受伤", None),
    ],
)
def test_a_rule_is_judged_whichever_of_its_terms_occur(
    expr: str, text: str, terms: tuple[str, ...] | None
) -> None:
    # Among other rules, so that each is looked up by its own terms and not evaluated on every post.
    specs = [RuleSpec("r", expr), RuleSpec("other", "孩子 作业"), RuleSpec("third", "小区 绿化")]
    hits = [
        hit
        for hit in compile_rules(specs).match({"title": None, "text": text, "source": "weibo"})
        if hit.id == "r"
    ]
    assert (hits[0].terms if hits else None) == terms


def test_a_term_in_a_field_no_rule_looks_in_makes_no_match() -> None:
    rules = compile_rules([RuleSpec("r", "排污 偷排"), RuleSpec("a", "author:濮阳日报 通报")])
    assert rules.match({"text": "排污", "author": "偷排 濮阳日报", "media": "通报"}) == []
    assert [hit.id for hit in rules.match({"text": "排污偷排通报", "author": "濮阳日报"})] == ["r", "a"]


@pytest.mark.parametrize(
    ("expr", "position", "message"),
    [
        ("(排污 偷排", 1, "左括号 ( 没有对应的右括号 )"),
        ("排污 偷排)", 6, "多了一个右括号 )"),
        ("排污 |", 5, "表达式在这里结束了"),
        ("排污 NEAR/x 偷排", 4, "NEAR 后面要写正整数距离，如 NEAR/20，这里写的是 NEAR/x"),
        ('"排污', 1, '引号没有配对，缺少后一个 "'),
        ("-排污", 1, "不含其中任何一个词的帖子也算命中"),
        ("", 1, "表达式是空的"),
        ("排污 NEAR/5 (a b)", 4, "NEAR 两边只能是词、短语或 (甲|乙) 这样的组"),
    ],
)
def test_bad_rule_names_rule_and_position(expr: str, position: int, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rules([RuleSpec("bad-rule", expr)])
    assert caught.value.rule_id == "bad-rule"
    assert caught.value.position + 1 == position
    assert str(caught.value).startswith(f"规则 bad-rule 第 {position} 个字符处：")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("expr", "position"),
    [
        ("title:濮阳 body:(排污|偷排)", 10),
        ("body: 排污", 1),
        ("标题:通报", 1),
        ("TITLE:通报", 1),
    ],
)
def test_an_unknown_scope_is_refused_not_read_as_text(expr: str, position: int) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rules([RuleSpec("scoped", expr)])
    assert caught.value.position + 1 == position
    assert ": 这个范围，可用的范围有 title:、text:、author:、source:、media:" in str(caught.value)


def test_a_colon_inside_a_term_that_is_no_scope_still_matches() -> None:
    assert match_ids("12:30 停电", text="今天12:30起停电") == ["r"]
    assert match_ids('"http://x.cn" 通报', text="见 http://x.cn 的通报") == ["r"]


@pytest.mark.parametrize(
    ("expr", "position", "why"),
    [
        # True of a post that holds none of the rule's terms.
        ("-演练", 1, "不含其中任何一个词的帖子也算命中"),
        ("NOT 演练 NOT 演习", 1, "不含其中任何一个词的帖子也算命中"),
        ("爆炸 | -演练", 1, "不含其中任何一个词的帖子也算命中"),
        ("(爆炸 -演练) | (NOT 起火)", 1, "不含其中任何一个词的帖子也算命中"),
        # True of a post that holds only one single-character term.
        ("的", 1, "只出现单个字“的”就算命中"),
        ("(爆炸|炸)", 5, "只出现单个字“炸”就算命中"),
        ("A -演练", 1, "只出现单个字“a”就算命中"),
        ('"人"', 1, "只出现单个字“人”就算命中"),
        ("的 NEAR/5 的", 1, "只出现单个字“的”就算命中"),
        # Punctuation alone, which looks like a wildcard but matches only itself.
        ("*", 1, "“*”里没有文字或数字，这里没有通配符"),
        ("爆炸 ?", 4, "“?”里没有文字或数字，这里没有通配符"),
        ("爆炸 - 死亡", 4, "“-”里没有文字或数字"),
        ('"……"', 1, "“……”里没有文字或数字"),
    ],
)
def test_a_rule_that_would_match_nearly_every_post_is_refused(expr: str, position: int, why: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rules([RuleSpec("too-broad", expr)])
    assert caught.value.position + 1 == position
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("火 NEAR/3 死亡", "大火致1人死亡"),  # a single character, but only beside another term
        ("(甲|乙) 词7号", "词7号和乙"),
        ("title:(通报|回应) -演练", "x"),
        ("爆炸 😭", "工厂爆炸😭"),  # an emoji is a symbol, not punctuation
    ],
)
def test_narrow_rules_with_short_terms_still_compile(expr: str, text: str) -> None:
    rules = compile_rules([RuleSpec("narrow", expr)])
    assert len(rules) == 1
    if not expr.startswith("title:"):
        assert [hit.id for hit in rules.match({"text": text})] == ["narrow"]
