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
