"""Sentiment as an analyst reads it: complaints negative, praise positive, negation and emoticons heard,
every call explained, and the lexicon model held to a floor on the shipped test split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers import metrics
from classifiers.sentiment import SnowNLPSentiment
from classifiers.sentiment_lexicon import DEFAULT_LEXICON, Lexicon, LexiconError, LexiconSentiment
from classifiers.types import Polarity

DATA = Path(__file__).resolve().parents[1] / "data" / "sentiment"


@pytest.fixture(scope="module")
def model() -> LexiconSentiment:
    return LexiconSentiment()


def read(split: str) -> list[dict]:
    with (DATA / f"{split}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_a_complaint_is_negative_and_names_its_words(model: LexiconSentiment) -> None:
    result = model.judge("反映了半年的问题，街道和区里推诿扯皮，到现在还是没人管[怒]")
    assert result.polarity is Polarity.NEGATIVE
    assert result.score < 0.1
    words = next(r for r in result.reasons if r.startswith("负面词"))
    assert "「推诿」" in words
    assert "「没人管」" in words
    assert "负面表情[怒]" in result.reasons


def test_praise_of_a_service_is_positive(model: LexiconSentiment) -> None:
    result = model.judge("今天去政务服务中心办营业执照，半小时就办好了，工作人员很耐心，点赞[赞]")
    assert result.polarity is Polarity.POSITIVE
    assert result.score > 0.9
    assert any("「点赞」" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("plain", "negated"),
    [
        ("对处理结果很满意", "对处理结果很不满意"),
        ("窗口办事方便", "窗口办事一点都不方便"),
        ("服务差", "服务不差"),
    ],
)
def test_negation_flips_the_word_it_governs(model: LexiconSentiment, plain: str, negated: str) -> None:
    before, after = model.judge(plain), model.judge(negated)
    assert (before.score - 0.5) * (after.score - 0.5) < 0, (before.reasons, after.reasons)


def test_negation_stops_at_the_clause_and_at_jiu(model: LexiconSentiment) -> None:
    # 不 is about the time here, not about 塌; and it does not reach past the comma.
    assert model.judge("新修的人行道不到一年就塌了").polarity is Polarity.NEGATIVE
    assert model.judge("我没去，太差了").polarity is Polarity.NEGATIVE


def test_emoticons_count_and_unknown_ones_are_read_by_name(model: LexiconSentiment) -> None:
    plain = model.judge("今天去了一趟市民之家")
    assert plain.score == 0.5
    assert model.judge("今天去了一趟市民之家[哈哈]").polarity is Polarity.POSITIVE
    assert model.judge("今天去了一趟市民之家[泪][泪]").polarity is Polarity.NEGATIVE
    assert model.judge("今天去了一趟市民之家[泪流满面]").polarity is Polarity.NEGATIVE
    # The bracketed name is an emoticon, not text: 哈哈 is counted once, as the emoticon.
    assert model.judge("[哈哈]").reasons[0] == "正面表情[哈哈]"


def test_praise_beside_the_sarcastic_smile_reads_as_its_opposite(model: LexiconSentiment) -> None:
    result = model.judge("真是太好了，一个井盖修了三个月，效率感人[微笑]")
    assert result.polarity is Polarity.NEGATIVE
    assert any(r.startswith("反讽表情[微笑]") for r in result.reasons)


def test_the_clause_after_but_weighs_more(model: LexiconSentiment) -> None:
    assert model.judge("大厅环境挺好的，但是服务太差了").polarity is Polarity.NEGATIVE
    assert model.judge("服务是差了点，但是问题解决得很彻底，非常满意").polarity is Polarity.POSITIVE


def test_remedy_news_and_notices_stay_neutral(model: LexiconSentiment) -> None:
    for text in ("全市开展打击非法集资宣传月活动", "【停水通知】因管网维修，明日8:00至18:00暂停供水。"):
        assert model.judge(text).polarity is Polarity.NEUTRAL, model.judge(text).reasons


@pytest.mark.parametrize("text", ["清丰县启动根治欠薪冬季专项行动", "全市开展清欠农民工工资行动"])
def test_a_remedy_before_the_problem_is_news(model: LexiconSentiment, text: str) -> None:
    result = model.judge(text)
    assert result.polarity is Polarity.NEUTRAL, result.reasons


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("欠薪问题整治不力，工人还是拿不到钱", {"不力", "拿不到"}),
        ("专项整治走过场", {"走过场"}),
        ("污染治理效果差", {"差"}),
        ("学校倒闭了学费无法退还", {"无法"}),
    ],
)
def test_a_remedy_that_failed_is_still_a_complaint(
    model: LexiconSentiment, text: str, counted: set[str]
) -> None:
    result = model.judge(text)
    assert result.polarity is Polarity.NEGATIVE, result.reasons
    (words,) = [r for r in result.reasons if r.startswith("负面词")]
    assert all(f"「{w}」" in words for w in counted), result.reasons
    assert not any(
        r.startswith("治理、防范语境不计") and any(w in r for w in counted) for r in result.reasons
    )


def test_empty_text_is_neutral_half(model: LexiconSentiment) -> None:
    for text in ("", "   ", "[]", "2024-11-23"):
        result = model.judge(text)
        assert result.score == 0.5
        assert result.polarity is Polarity.NEUTRAL
        assert result.reasons == ("无情感词",)


def test_the_same_post_always_gets_the_same_answer() -> None:
    text = "欠薪三个月，劳动监察说在协调，协调到现在还是一句空话？？[抓狂]"
    first, second = LexiconSentiment(), LexiconSentiment()
    assert first.judge(text) == first.judge(text) == second.judge(text)


def test_snownlp_stays_available_on_our_words() -> None:
    model = SnowNLPSentiment()
    assert model.judge("", []).score == 0.5
    result = model.judge("质量很差，非常失望", ["质量", "很", "差", "非常", "失望"])
    assert 0.0 <= result.score <= 1.0
    assert "snownlp" in result.reasons[0]


def test_shipped_splits_are_separate_labelled_and_large_enough() -> None:
    dev, test = read("dev"), read("test")
    assert len(dev) + len(test) >= 600
    assert not {r["text"] for r in dev} & {r["text"] for r in test}
    for row in dev + test:
        assert row["label"] in {"negative", "neutral", "positive"}
        assert row["text"].strip()


def test_lexicon_model_reaches_its_floor_on_the_test_split(model: LexiconSentiment) -> None:
    rows = read("test")
    result = metrics.score([r["label"] for r in rows], [model.judge(r["text"]).polarity.value for r in rows])
    assert result.macro_f1 >= 0.80, result
    assert min(result.per_label.values()) >= 0.70, result.per_label


def test_macro_f1_counts_only_the_gold_labels() -> None:
    result = metrics.score(["positive", "negative", "negative"], ["positive", "neutral", "negative"])
    assert result.per_label == {"negative": pytest.approx(2 / 3), "positive": 1.0}
    assert result.accuracy == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        metrics.score(["positive", "negative"], ["positive"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[positive]\n好 1\n[feelings]\n", ":3: unknown section '[feelings]'"),
        ("好 1\n", ":1: entry before the first [section]"),
        ("[positive]\n好 很多\n", ":2: weight '很多' is not a number"),
        ("[negative]\n差 1.5\n", ":2: '差': weight 1.5 has the wrong sign"),
        ("[positive]\n好\n好 2\n", ":3: '好' already listed in [positive] at line 2"),
        ("[emoticons]\n哈哈\n", ":2: [emoticons] needs a weight after '哈哈'"),
        ("[negators]\n不 2\n", ":2: [negators] takes no weight, got '2'"),
    ],
)
def test_a_broken_lexicon_names_file_line_and_reason(text: str, message: str) -> None:
    with pytest.raises(LexiconError) as caught:
        Lexicon.parse(text, "custom.txt")
    assert str(caught.value).startswith("custom.txt" + message)


def test_a_lexicon_file_that_is_missing_or_not_utf8_is_named(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"nowhere\.txt:0: file not found"):
        LexiconSentiment(tmp_path / "nowhere.txt")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("[positive]\n好 1\n".encode("gbk"))
    with pytest.raises(LexiconError, match=r"gbk\.txt:0: not UTF-8"):
        LexiconSentiment(gbk)


def test_the_shipped_lexicon_loads() -> None:
    lexicon = Lexicon.load(DEFAULT_LEXICON)
    assert lexicon.emoticons["怒"] < 0 < lexicon.emoticons["哈哈"]
    assert "微笑" in lexicon.sarcasm
