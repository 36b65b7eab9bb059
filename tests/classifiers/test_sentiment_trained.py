"""The trained sentiment model (the default): the regression's calls added to the lexicon's, with reasons
from both; official news not negative; place names never evidence; emoticons never the regression's
features (they were the public set's labels) but read by the lexicon half; plain-Python scoring from a
small shipped file; and a floor on the held-out test split."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from classifiers import metrics
from classifiers.sentiment_trained import DEFAULT_WEIGHTS, TrainedSentiment, WeightsError
from classifiers.tokenise import Tokeniser
from classifiers.types import Polarity

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "tests" / "data" / "sentiment"
PLACES = (
    "濮阳",
    "濮阳市",
    "南乐县",
    "南乐",
    "清丰县",
    "清丰",
    "范县",
    "台前县",
    "台前",
    "濮阳县",
    "华龙区",
    "华龙",
)


@pytest.fixture(scope="module")
def tokeniser() -> Tokeniser:
    return Tokeniser(PLACES)


@pytest.fixture(scope="module")
def model() -> TrainedSentiment:
    return TrainedSentiment(places=PLACES)


def judge(model: TrainedSentiment, tokeniser: Tokeniser, text: str):
    return model.judge(text, tokeniser.words(text))


def test_a_complaint_is_negative_and_names_its_words(model, tokeniser) -> None:
    result = judge(model, tokeniser, "老板拖欠工资半年了，去讨薪还被打，投诉了也没人管，太黑心了")
    assert result.polarity is Polarity.NEGATIVE
    assert result.score < 0.2
    (negative,) = [r for r in result.reasons if r.startswith("负面依据：")]
    assert {"拖欠", "黑心"} & set(negative.removeprefix("负面依据：").split("、")), result.reasons
    assert result.reasons[-1].startswith("情感词典合计")
    assert "统计模型 P(正面)=" in result.reasons[-1]
    assert any(r.startswith("负面词") for r in result.reasons), result.reasons  # the lexicon's half


def test_praise_is_positive_and_names_its_words(model, tokeniser) -> None:
    result = judge(model, tokeniser, "政务大厅的工作人员很耐心，半小时就办好了，非常满意，点赞")
    assert result.polarity is Polarity.POSITIVE
    assert result.score > 0.8
    assert any(r.startswith("正面依据：") and "满意" in r for r in result.reasons), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "清丰县启动根治欠薪冬季专项行动",
        "南乐县召开安全生产工作会议，部署冬季防火工作",
        "华龙区教育局发布2027年小学招生入学政策",
        "关于范县部分路段临时交通管制的通告",
    ],
)
def test_official_news_is_not_negative(model, tokeniser, text: str) -> None:
    result = judge(model, tokeniser, text)
    assert result.polarity is not Polarity.NEGATIVE, (result.score, result.reasons)


@pytest.mark.parametrize("place", ["南乐县", "清丰县", "范县", "台前县", "濮阳县", "华龙区", "濮阳"])
def test_place_names_are_never_features(model, tokeniser, place: str) -> None:
    text = "这里的服务一般，等了很久"
    assert judge(model, tokeniser, place + text).score == judge(model, tokeniser, text).score
    assert judge(model, tokeniser, place).reasons == ("无情感词",)
    assert all(place not in r and place[:2] not in r for r in judge(model, tokeniser, place + text).reasons)


def test_the_place_names_come_from_the_caller(tokeniser) -> None:
    """Without the office's names 南乐县 is just text; with them it is dropped."""
    blind, aware = TrainedSentiment(), TrainedSentiment(places=["南乐县"])
    assert blind.features.of("南乐县", ["南乐县"]) == {"南乐县", "南乐", "乐县"}
    assert aware.features.of("南乐县", ["南乐县"]) == set()


def test_emoticons_mentions_and_links_are_never_features(model, tokeniser) -> None:
    """The public labels were read off emoticons: the regression never sees them. The lexicon half reads an
    emoticon as what it says, as any duty officer would."""
    plain = "今天去办了社保卡"
    marked = "[哈哈][怒]@某某某 今天去办了社保卡 http://t.cn/abc 😀"
    assert model.features.of(marked, tokeniser.words(marked)) == model.features.of(
        plain, tokeniser.words(plain)
    )
    angry = judge(model, tokeniser, plain + "[怒]")
    assert angry.score < judge(model, tokeniser, plain).score
    assert "负面表情[怒]" in angry.reasons


def test_empty_and_unknown_text_is_neutral_half(model, tokeniser) -> None:
    for text in ("", "12345"):
        result = judge(model, tokeniser, text)
        assert result.score == 0.5
        assert result.polarity is Polarity.NEUTRAL


def test_probability_adds_the_regression_and_the_lexicon_as_the_weights_say(model, tokeniser) -> None:
    """The score is the logistic of a × (bias plus the known weights scaled by the text's size) plus b × the
    lexicon's log-odds, a and b from the weights file."""
    import math

    assert model.mix is not None
    assert model.lexicon is not None
    text = "服务态度差，等了两个小时"
    features, size = model.features.example(text, tokeniser.words(text))
    assert size == len(text) - 1  # its letters and characters: not the comma
    known = sum(model.weights.get(f, 0.0) for f in features)
    regression = model.bias + known / math.sqrt(size)
    total, _reasons = model.lexicon.weigh(text)
    logit = model.mix["model"] * regression + model.mix["lexicon"] * model.lexicon.scale * total
    assert judge(model, tokeniser, text).score == pytest.approx(1 / (1 + math.exp(-logit)))


def test_weights_without_a_mix_are_the_regression_alone(model, tokeniser) -> None:
    import math

    alone = TrainedSentiment({"bias": model.bias, "weights": model.weights}, places=PLACES)
    text = "服务态度差"
    features, size = alone.features.example(text, tokeniser.words(text))
    known = sum(alone.weights.get(f, 0.0) for f in features)
    expected = 1 / (1 + math.exp(-(alone.bias + known / math.sqrt(size))))
    result = judge(alone, tokeniser, text)
    assert result.score == pytest.approx(expected)
    assert result.reasons[-1].startswith("统计模型")


@pytest.mark.parametrize(
    "mix",
    [
        {"model": "多"},
        {"model": float("nan"), "lexicon": 1.0},
        {"model": -1.0, "lexicon": 1.0},
        {"model": 0, "lexicon": 0},
        {"model": 1.0, "lexicon": 1.0, "silent": -0.5},
        {"model": 1.0, "lexicon": 1.0, "silent": "半"},
    ],
)
def test_a_mix_that_is_not_sound_numbers_is_named(tmp_path: Path, mix: dict) -> None:
    from classifiers.sentiment_trained import dump_weights

    bad = tmp_path / "mix.json.gz"
    bad.write_bytes(dump_weights({"bias": 0.0, "weights": {"差": -1.0}, "mix": mix}))
    with pytest.raises(WeightsError, match=r"mix\.json\.gz: mix 应为"):
        TrainedSentiment(bad)


def test_score_is_the_probability_judge_gives(model, tokeniser) -> None:
    """`score` (the training script's band and figures read it) and `judge` agree on every test post, on
    posts with no evidence at all, and on a long article."""
    rows = [json.loads(line) for line in (SHIPPED / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    article = "，".join(r["text"] for r in rows[:60])  # long enough to take the long-text path
    for text in [r["text"] for r in rows] + ["", "12345", "今天星期三", article]:
        words = tokeniser.words(text)
        assert model.score(text, words) == pytest.approx(model.judge(text, words).score, abs=1e-12), text


def test_scoring_weighs_the_features_training_reads(model, tokeniser) -> None:
    """Scoring finds the weighted features with an automaton and a look-up among the words; training reads
    the whole feature set (`Features.example`). Both give the same evidence, or the weights would be applied
    to something other than what they were fitted on: every test post, with markup, places and repeats, and
    a long article."""
    from classifiers.sentiment_train import prior_logit

    rows = [json.loads(line) for line in (SHIPPED / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    article = "，".join(r["text"] for r in rows[:60])
    extra = ["[哈哈]南乐县的路灯坏了@某某 差差差，差评差评 http://t.cn/x", "不推荐不推荐", "ok很ok", article]
    for text in [r["text"] for r in rows] + extra:
        words = tokeniser.words(text)
        features, size = model.features.example(text, words)
        evidence = model._logit(model.features.clean(text), words)
        assert evidence == pytest.approx(prior_logit((model.weights, 0.0), features, size), abs=1e-9), text


def test_a_long_article_has_the_features_the_short_path_would_give(model, tokeniser, monkeypatch) -> None:
    import classifiers.sentiment_trained as trained

    rows = [json.loads(line) for line in (SHIPPED / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    article = "[哈哈]南乐县" + "，".join(r["text"] for r in rows) + "，请看http://t.cn/x 濮阳市人民政府网站"
    words = tokeniser.words(article)
    long_path = model.features.of(article, words)
    monkeypatch.setattr(trained, "_SCAN_LIMIT", 10**9)
    assert model.features.of(article, words) == long_path
    assert any(len(w) >= 3 for w in long_path)


def test_scoring_needs_neither_sklearn_nor_numpy() -> None:
    code = (
        "import sys\n"
        "from classifiers.sentiment_trained import TrainedSentiment\n"
        "m = TrainedSentiment(places=['南乐县'])\n"
        "assert m.judge('服务太差了', ['服务', '太', '差', '了']).score < 0.5\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('sklearn', 'numpy', 'scipy'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_shipped_weights_are_small_and_documented() -> None:
    assert DEFAULT_WEIGHTS.stat().st_size <= 3_000_000
    data = json.loads(gzip.decompress(DEFAULT_WEIGHTS.read_bytes()))
    assert len(data["weights"]) > 5_000
    provenance = (DEFAULT_WEIGHTS.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    for needed in ("sha256", "ChineseNlpCorpus", "weibo_senti_100k", "Licence", "Brier", "C=", "macro-F1"):
        assert needed in provenance


def test_a_broken_weights_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json.gz"
    with pytest.raises(WeightsError, match=r"nowhere\.json\.gz"):
        TrainedSentiment(missing)
    plain = tmp_path / "plain.json.gz"
    plain.write_text("{}", encoding="utf-8")
    with pytest.raises(WeightsError, match=r"plain\.json\.gz"):
        TrainedSentiment(plain)


def test_the_default_model_reaches_its_floor_on_the_test_split(model, tokeniser) -> None:
    """test.jsonl is never trained on nor used to choose the mix (dev.jsonl chose it); the floor sits a little
    under the measured figure (0.904) and above the lexicon alone (0.896)."""
    rows = [json.loads(line) for line in (SHIPPED / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    result = metrics.score(
        [r["label"] for r in rows], [judge(model, tokeniser, r["text"]).polarity.value for r in rows]
    )
    assert result.macro_f1 >= FLOOR, result


FLOOR = 0.90


@pytest.mark.parametrize(
    "text",
    [
        "南乐县[怒]路灯坏了",  # a place and an emoticon
        "@南乐县人 说清丰县http://t.cn/x 好",  # a place inside a mention, a link
        "[南乐县]濮阳市",  # a place inside brackets
        "路灯坏了[怒]@某人 www.example.cn",  # markup, no place
        "南乐县路灯坏了",  # a place, no markup
        "WWW.Example.CN 看HTTP://T.CN/X",  # markup in capitals
        "路灯坏了",
        "路灯又坏了😡",  # an emoji, no place
        "南乐县👍清丰县\u2600",  # emoji beside places
        "清丰县 how are you, world",  # h and w, but no link
        "哈哈\u200d南乐县\U0001faff",  # a joiner, the last emoji of the range
    ],
)
def test_one_reading_gives_the_clean_text_and_the_text_without_places(model, text: str) -> None:
    """`read` looks for place names once where it can; it gives what the markup-then-places order gives."""
    import classifiers.sentiment_trained as trained

    features = model.features
    lowered = text.lower()
    without = features.without_places(text)
    cleaned = features._without_places(trained._MARKUP.sub("，", lowered))[0]
    assert features.read(text) == (cleaned, without)
    assert features.clean(text) == cleaned


def test_the_mix_and_band_serve_every_set_they_are_chosen_on() -> None:
    """Chosen on two sets, one that only the lexicon reads right and one of posts where the lexicon finds no
    word and only the regression speaks, the mix and band call both sets right."""
    from classifiers.sentiment_train import fit_mix

    gold = ["negative", "neutral", "positive"] * 4
    sign = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
    # the regression says nothing and the lexicon is right, loudly; then the lexicon finds no word and the
    # regression is right, quietly
    lexicon_set = ([0.0] * len(gold), [3.0 * sign[g] for g in gold], gold)
    regression_set = ([0.5 * sign[g] for g in gold], [None] * len(gold), gold)
    mix, (low, high) = fit_mix([lexicon_set, regression_set])

    def calls(model: list[float], lexicon: list[float | None]) -> list[str]:
        logits = [
            mix["silent"] * m if x is None else mix["model"] * m + mix["lexicon"] * x
            for m, x in zip(model, lexicon, strict=True)
        ]
        scores = [1 / (1 + math.exp(-z)) for z in logits]
        return ["negative" if s < low else "positive" if s > high else "neutral" for s in scores]

    assert mix["lexicon"] > 0
    assert calls(*lexicon_set[:2]) == gold
    assert calls(*regression_set[:2]) == gold


def test_where_the_lexicon_finds_no_word_the_regression_speaks_at_its_silent_share(model, tokeniser) -> None:
    """A citizen's question holds no sentiment word: its probability is the logistic of the mix's `silent`
    share of the regression's log-odds, and the reasons say the lexicon found nothing."""
    text = "请问婚姻登记处周末上班吗，需要预约吗"
    assert model.lexicon is not None
    assert model.lexicon.weigh(text) is None
    features, size = model.features.example(text, tokeniser.words(text))
    regression = model.bias + sum(model.weights.get(f, 0.0) for f in features) / math.sqrt(size)
    result = judge(model, tokeniser, text)
    assert result.score == pytest.approx(1 / (1 + math.exp(-model.mix["silent"] * regression)))
    assert result.reasons[-1].startswith("情感词典未见情感词")
