"""Rebuilds the Weibo training set of the trained sentiment model from the public copies of weibo_senti_100k
that the repositories below hold in their history. The whole file (119,988 posts, from SophonPlus/
ChineseNlpCorpus, which links only to a Baidu share) is in none of them that can be read here; these are
splits other projects made of it, with different rows. Together they hold about two thirds of it.

Each copy is read from a clone under DIR (`DIR/<owner>+<name>` or `DIR/<owner>+<name>/repo`) by its blob id,
which names the exact content. Some copies lost characters outside GB2312 to `?`: a post is the same post
when its Han characters that survive that loss agree, and the cleanest copy is kept. Posts whose copies
disagree on the label are dropped. Writes `label,review` CSV (1 positive, 0 negative) and, beside it,
`<out>.sources.json` naming every copy, for the provenance that benchmarks/train_sentiment.py writes.

    .venv/bin/python benchmarks/weibo_senti_merge.py --mirrors DIR --out weibo_senti_merged.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
from pathlib import Path

from corpus import mirror_object

# (repository, commit holding the file, path, blob, format, cleanliness: lower is kept first)
COPIES = [
    (
        "Peng-Rao/weibo-sentiment-system",
        "4ea4fa0523c63297b09c08821bce5c13e7aa58de",
        "notebooks/data/weibo_senti_100k/test.csv",
        "83572c7c3e00fad0f340215c7dc594506ba9bfd4",
        "csv",
        0,
    ),
    (
        "DSXiangLi/SimpleClassification",
        "7a804bd03f20618d741be4cc90ff44d65a52f96f",
        "trainsample/weibo/test.txt",
        "a7b769e7c28a2fb03688b126089baa95c1b76eda",
        "jsonl",
        1,
    ),
    (
        "DSXiangLi/SimpleClassification",
        "7a804bd03f20618d741be4cc90ff44d65a52f96f",
        "trainsample/weibo/valid.txt",
        "3de9e35ee87877e7c19474271dc7a3e588e1c520",
        "jsonl",
        1,
    ),
    (
        "DSXiangLi/SimpleClassification",
        "654ca7e7093d5e1457eb0fb35ffeb1f256fbecb6",
        "trainsample/weibo/valid.txt",
        "704e9f6ac8180892671fd8bc5a707c5000d1d0a1",
        "jsonl",
        1,
    ),
    (
        "TrellixVulnTeam/TDM-Senti-Analyse_QWKS",
        "c2b03c5870361bf379ee9efaa94847a2ca12ef06",
        "data/weibo_senti_100k/dev.csv",
        "8d32af3d918931427a065c5213fcb31905bac61b",
        "tsv",
        2,
    ),
    (
        "TrellixVulnTeam/TDM-Senti-Analyse_QWKS",
        "c2b03c5870361bf379ee9efaa94847a2ca12ef06",
        "data/weibo_senti_100k/test.csv",
        "96b474794552c5aa535472cbfaa74f121800db93",
        "tsv",
        2,
    ),
]
_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]")


def rows_of(raw: bytes, kind: str) -> list[tuple[str, int]]:
    text = raw.decode("utf-8-sig", errors="replace")
    rows: list[tuple[str, int]] = []
    if kind == "csv":
        rows = [(r["review"], int(r["label"])) for r in csv.DictReader(io.StringIO(text))]
    elif kind == "jsonl":
        for line in text.splitlines():
            data = json.loads(line)
            review, label = (data["text"], data["label"]) if isinstance(data, dict) else data
            rows.append((review, int(label)))
    else:  # label <tab> text, after a header line
        for line in text.splitlines()[1:]:
            label, _, review = line.partition("\t")
            if label in ("0", "1"):
                rows.append((review, int(label)))
    return [(r.replace("\ufeff", "").strip(), y) for r, y in rows if r.strip() and y in (0, 1)]


def same_post(text: str) -> str:
    """The Han characters a copy that lost the others to `?` still holds."""
    return _NOT_HAN.sub("", text.encode("gb2312", errors="replace").decode("gb2312")) or text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    kept: dict[str, tuple[str, int, int]] = {}
    labels: dict[str, set[int]] = {}
    sources = []
    for repo, commit, path, sha, kind, rank in COPIES:
        raw = mirror_object(args.mirrors, repo, sha)
        rows = rows_of(raw, kind)
        sources.append({"repo": repo, "commit": commit, "path": path, "blob": sha, "rows": len(rows)})
        for review, label in rows:
            key = same_post(review)
            labels.setdefault(key, set()).add(label)
            if key not in kept or rank < kept[key][2]:
                kept[key] = (review, label, rank)
    agreed = [(review, label) for key, (review, label, _) in kept.items() if len(labels[key]) == 1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "review"])
    writer.writerows((label, review) for review, label in agreed)
    data = buffer.getvalue().encode("utf-8")
    args.out.write_bytes(data)
    summary = {
        "posts": len(agreed),
        "positive": sum(label for _, label in agreed),
        "dropped_disagreeing": len(kept) - len(agreed),
        "sha256": hashlib.sha256(data).hexdigest(),
        "copies": sources,
    }
    args.out.with_name(args.out.name + ".sources.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "copies"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
