"""The rule editor says what is wrong with its fields, in words, before anything is saved."""

from console.pages.rules import check_expression, field_problems

GOOD = {
    "id": "wage-sit-in",
    "name": "讨薪静坐",
    "category": "群体性事件",
    "weight": "7",
    "min_level": "",
    "expr": "讨薪 静坐",
}


def test_good_fields_have_no_problem() -> None:
    assert field_problems(GOOD) == []
    assert field_problems(GOOD | {"min_level": "复杂敏感事件", "weight": "0"}) == []


def test_each_wrong_field_is_named() -> None:
    problems = field_problems(GOOD | {"id": "讨薪", "name": " ", "weight": "99", "min_level": "特别重大"})
    assert problems == [
        "编号只能用英文小写字母、数字和连字符，如 wage-arrears-sit-in",
        "请填写名称",
        "权重应为 0～10 的数字，而不是「99」",
        "没有「特别重大」这个级别",
    ]
    assert field_problems(GOOD | {"weight": "七"}) == ["权重应为 0～10 的数字，而不是「七」"]


def test_an_expression_error_says_the_character() -> None:
    assert check_expression("x", "讨薪 (静坐") == ("左括号 ( 没有对应的右括号 )", 3)
    assert check_expression("x", "讨薪 静坐") == ("", None)
    message, _ = check_expression("x", "-演练")
    assert "请加上必须出现的词" in message
