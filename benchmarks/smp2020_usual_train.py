"""Writes the training and evaluation splits of SMP2020-EWECT's general Weibo posts (通用微博, "usual": 27,768
and 2,000 posts labelled by the organisers with an emotion; its COVID-era part is not read) as the
`label,review` CSV that benchmarks/train_sentiment.py reads with `--in-domain`: real Weibo posts labelled
by people, not by their emoticons.

The files are read from clones of public copies under DIR (`DIR/<owner>+<name>`, or `/repo` under it) by
their blob ids: the training split from zhusleep/weibo_sentiment_analysis, an Excel 97 workbook read with
xlrd (the `train` extra); the evaluation split with its labels from BrownSweater/BERT_SMP2020-EWECT, which
also holds the test split. Emotions become polarities as in benchmarks/smp2020_usual.py: happy 1, angry,
sad and fear 0, neutral `neutral`; surprise, which can be either, is left out. Repeated texts are kept once, and every text of the test split
(benchmarks/smp2020_usual.py, read from its own copy under DIR) is left out, so that split stays unseen.
Neither copy nor the task's pages state a licence: the posts are not stored in this repository, only the
weights trained on them.

    .venv/bin/python benchmarks/smp2020_usual_train.py --mirrors DIR --out smp2020_usual_train.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
from pathlib import Path

from corpus import mirror_object
from smp2020_usual import BLOB as TEST_BLOB
from smp2020_usual import POLARITY
from smp2020_usual import REPOSITORY as TEST_REPOSITORY

# (repository, commit holding the file, path, blob, format)
SPLITS = [
    (  # sheet 1 holds 数据编号, 文本, 情绪标签 under a header row
        "zhusleep/weibo_sentiment_analysis",
        "ef00d514542d30dbc307d13478919e5333903eb6",
        "2020_SMP_raw_data/usual_train.xlsx",
        "def8f9f33b363dc6419d3b7e855da6e23ab1d631",
        "xls",
    ),
    (  # a JSON array of {id, content, label}, as the test split
        TEST_REPOSITORY,
        "bd9c4809100a26219d70e6dcfef8db08832ef560",
        "data/raw/usual_eval_labeled.txt",
        "b6035b875557675f0f45a81c2bf456426a413185",
        "json",
    ),
]
LABEL = {"positive": "1", "negative": "0", "neutral": "neutral"}
SPELLING = {"neural": "neutral"}  # the training workbook's spelling of the neutral label


def main() -> None:
    import xlrd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder holding the repositories' clones")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    test = {row["content"] for row in json.loads(mirror_object(args.mirrors, TEST_REPOSITORY, TEST_BLOB))}
    seen: set[str] = set()
    kept: dict[str, int] = {}
    dropped = 0
    copies = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "review"])
    for repository, commit, path, blob, form in SPLITS:
        raw = mirror_object(args.mirrors, repository, blob)
        if form == "xls":
            sheet = xlrd.open_workbook(file_contents=raw).sheet_by_index(0)
            rows = [sheet.row_values(i) for i in range(1, sheet.nrows)]
        else:
            rows = [(row["id"], row["content"], row["label"]) for row in json.loads(raw.decode("utf-8"))]
        copies.append(
            {
                "repo": repository,
                "commit": commit,
                "path": path,
                "blob": blob,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "rows": len(rows),
            }
        )
        for _, text, emotion in rows:
            emotion = str(emotion).strip()
            polarity = POLARITY.get(SPELLING.get(emotion, emotion))
            text = str(text).strip()
            if polarity is None or not text or text in seen:
                continue
            seen.add(text)
            if text in test:
                dropped += 1
                continue
            kept[polarity] = kept.get(polarity, 0) + 1
            writer.writerow([LABEL[polarity], text])
    args.out.write_text(buffer.getvalue(), encoding="utf-8")
    args.out.with_name(args.out.name + ".sources.json").write_text(
        json.dumps({"copies": copies}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    for copy in copies:
        print(
            f"{copy['repo']} {copy['path']} (blob {copy['blob'][:12]}, sha256 {copy['sha256']}): {copy['rows']} posts"
        )
    print(
        f"written to {args.out}: {sum(kept.values())} posts, {kept}; {dropped} left out as in the test split"
    )


if __name__ == "__main__":
    main()
