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
    ("expr", "position", "message"),
    [
        ("(排污 偷排", 1, "never closed"),
        ("排污 偷排)", 6, "unbalanced"),
        ("排污 |", 5, "ends where a term"),
        ("排污 NEAR/x 偷排", 4, "positive distance"),
        ('"排污', 1, "unclosed quote"),
        ("-排污", 1, "no term that can match"),
        ("", 1, "empty rule"),
        ("排污 NEAR/5 (a b)", 4, "NEAR joins"),
    ],
)
def test_bad_rule_names_rule_and_position(expr: str, position: int, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rules([RuleSpec("bad-rule", expr)])
    assert caught.value.rule_id == "bad-rule"
    assert caught.value.position + 1 == position
    assert message in str(caught.value)
    assert "bad-rule" in str(caught.value)
