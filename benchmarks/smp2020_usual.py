"""Writes the labelled test split of SMP2020-EWECT's general Weibo posts (通用微博, "usual": 5,000 posts with
the organisers' emotion labels; its COVID-era part is not read) as JSON lines `benchmarks/sentiment.py
--extra` reads: an evaluation set of real Weibo posts whose labels were not taken from their emoticons, and
that no model of this project was trained or tuned on.

The file is read from a clone of a public copy of it (DIR/BrownSweater+BERT_SMP2020-EWECT, or `/repo` under
it) by its blob id. Emotions become polarities: happy positive; angry, sad and fear negative; neutral
neutral; surprise, which can be either, is left out. Repeated texts are kept once. `--two-way` leaves out
the neutral posts too, for a positive-or-negative figure. Neither the copy nor the task's pages state a
licence: the posts are used to measure, and are not stored in this repository.

    .venv/bin/python benchmarks/smp2020_usual.py --mirrors DIR --out usual_test.jsonl [--two-way]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from corpus import mirror_object

REPOSITORY = "BrownSweater/BERT_SMP2020-EWECT"
PATH = "data/raw/usual_test_labeled.txt"  # at commit e928cec00182; a JSON array of {id, content, label}
BLOB = "ac5276a111e7429023bc09b677651102bad50604"
POLARITY = {
    "happy": "positive",
    "angry": "negative",
    "sad": "negative",
    "fear": "negative",
    "neutral": "neutral",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder holding the repository's clone")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--two-way", action="store_true", help="leave out the neutral posts")
    args = parser.parse_args()
    raw = mirror_object(args.mirrors, REPOSITORY, BLOB)
    rows = json.loads(raw.decode("utf-8"))
    seen: set[str] = set()
    kept: dict[str, int] = {}
    with args.out.open("w", encoding="utf-8") as out:
        for row in sorted(rows, key=lambda r: r["id"]):
            label, text = POLARITY.get(row["label"]), row["content"]
            if label is None or not text.strip() or text in seen or (args.two_way and label == "neutral"):
                continue
            seen.add(text)
            kept[label] = kept.get(label, 0) + 1
            out.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    print(
        f"{REPOSITORY} {PATH} (blob {BLOB[:12]}, sha256 {hashlib.sha256(raw).hexdigest()}): {len(rows)} posts"
    )
    print(f"written to {args.out}: {sum(kept.values())} posts, {kept}")


if __name__ == "__main__":
    main()
