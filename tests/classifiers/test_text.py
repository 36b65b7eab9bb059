"""`clean_text`, the one whitespace clean-up of page fields (one paragraph) and whole posts (lines kept)."""

from __future__ import annotations

import pytest

from classifiers.text import clean_text


@pytest.mark.parametrize(
    ("raw", "paragraph", "lines"),
    [
        ("\u3000\u3000新华社北京11月23日电", "新华社北京11月23日电", "新华社北京11月23日电"),
        ("a\xa0\xa0b\u200b c", "a b c", "a b c"),
        ("甲\u2002\u2003\u2009乙\t丙", "甲 乙 丙", "甲 乙 丙"),
        ("\n  第一行\n\n第二行  \n", "第一行 第二行", "第一行\n第二行"),
        ("村民反映\r\n\r\n  \r\n工厂夜间偷排。\r", "村民反映 工厂夜间偷排。", "村民反映\n工厂夜间偷排。"),
        ("一\u2028二", "一 二", "一\n二"),
        ("零\u200d宽\u2060字\u200c符", "零宽字符", "零宽字符"),
        ("\ufeff", "", ""),
        ("  \u3000 ", "", ""),
        (None, "", ""),
        # Only plain spaces, one or more in a row: nothing else would send the text through the folding.
        ("甲  乙 丙", "甲 乙 丙", "甲 乙 丙"),
        ("甲 乙\n 丙 ", "甲 乙 丙", "甲 乙\n丙"),
        ("甲乙丙", "甲乙丙", "甲乙丙"),
    ],
)
def test_clean_text(raw, paragraph, lines):
    assert clean_text(raw) == paragraph
    assert clean_text(raw, lines=True) == lines
