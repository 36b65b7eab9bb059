from classifiers.departments import DepartmentMatcher

MATCHER = DepartmentMatcher(
    {
        "生态环境": ["排污", "偷排", "废水", "刺鼻"],
        "应急管理": ["化工厂", "爆炸"],
        "城管": ["违建", "占道"],
        "卫健": ["医院"],
        "信访": ["信访"],
    }
)


def test_two_words_make_a_topic_and_a_lone_word_beside_it_does_not() -> None:
    result = MATCHER.match("化工厂夜间偷排废水")
    assert result.topics == ("生态环境",)
    assert result.reasons == ("生态环境: 「偷排」「废水」",)


def test_a_word_in_the_title_counts_double() -> None:
    result = MATCHER.match("他去医院看病后又去信访", title="房屋被当作违建拆除")
    assert result.topics == ("城管",)
    assert "标题提及" in result.reasons[0]


def test_one_lone_word_is_enough_only_when_no_other_topic_is_touched() -> None:
    assert MATCHER.match("小区里有人占道经营").topics == ("城管",)
    assert MATCHER.match("医院门口有人信访").topics == ()


def test_a_decisive_word_routes_an_ambiguous_post_to_the_most_specific_department_first() -> None:
    matcher = DepartmentMatcher(
        {
            "生态环境": ["异味", "污水", "排污"],
            "市场监管": ["食品安全", "变质"],
            "教育": ["学校", "学生", "老师"],
            "住房公积金": ["公积金", "缴存"],
        },
        {"市场监管": ["食堂"], "住房公积金": ["公积金"]},
    )
    canteen = matcher.match("学校食堂的饭菜有股异味，学生说肉不新鲜，老师也不管")
    assert canteen.topics[0] == "市场监管"
    assert "生态环境" not in canteen.topics
    assert "「食堂」专指此项" in canteen.reasons[0]
    assert matcher.match("请问公积金怎么提取").topics == ("住房公积金",)
