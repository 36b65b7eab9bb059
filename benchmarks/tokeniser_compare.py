"""What changes when the tokeniser is rjieba instead of jieba: the same corpus analysed with each.

Both are given the office's words (rule terms, place names, department keywords) at the same frequency.
Prints the share of identical word lists and search-token lists, the posts whose territory, event, level,
polarity or sentiment changed (with examples), and each tokeniser's speed on the corpus.

    .venv/bin/python benchmarks/tokeniser_compare.py
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import jieba
from corpus import long_articles, weibo_posts

from classifiers.tokenise import _KEEP, Tokeniser, user_word_frequency
from pipeline.context import Context
from pipeline.items import Post, post_from_dict
from pipeline.runner import OfflineRunner

jieba.setLogLevel(logging.WARNING)


class JiebaTokeniser(Tokeniser):
    """The tokeniser as it was with jieba: same words, same frequencies, same normalisation."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        super().__init__(())
        self._plain = jieba.Tokenizer()
        self._plain.initialize()
        self.user_words = sorted({w.strip() for w in user_words if w and w.strip()})
        for word in self.user_words:
            self._plain.add_word(word, freq=user_word_frequency(word))

    def words(self, text: str) -> list[str]:
        return [t.lower() for t in self._plain.cut(text) if _KEEP.search(t)]

    def index_tokens(self, words: Iterable[str]) -> list[str]:
        freq = self._plain.FREQ
        out: list[str] = []
        for word in words:
            for size in (2, 3):
                if len(word) > size:
                    out.extend(
                        word[i : i + size]
                        for i in range(len(word) - size + 1)
                        if freq.get(word[i : i + size])
                    )
            out.append(word)
        return out


def analysed(context: Context, texts: list[tuple[str | None, str]]) -> list[Post]:
    runner = OfflineRunner(context)
    return [
        runner.run(
            post_from_dict(
                {"title": title, "text": text}, stand_in_id=f"c:{i}", stand_in_url=f"https://c.invalid/{i}"
            )
        )
        for i, (title, text) in enumerate(texts)
    ]


def labels(post: Post) -> dict[str, object]:
    a = post.analysis
    return {
        "territory": (a.territory.counties, a.territory.townships, a.territory.city) if a.territory else None,
        "event": a.event_id,
        "level": a.severity.level.value if a.severity else None,
        "polarity": a.polarity.value if a.polarity else None,
        "sentiment": a.sentiment,
        "responsible": tuple(a.responsible.first) if a.responsible else (),
    }


def main() -> None:
    texts = [(None, t) for t in weibo_posts()] + long_articles()
    new = Context.load()
    old = Context.load()
    old.tokeniser = JiebaTokeniser(new.tokeniser.user_words)
    joined = [f"{title or ''}\n{text}" for title, text in texts]
    words_old = [old.tokeniser.words(t) for t in joined]
    words_new = [new.tokeniser.words(t) for t in joined]
    same_words = sum(a == b for a, b in zip(words_old, words_new, strict=True))
    same_tokens = sum(
        old.tokeniser.index_tokens(a) == new.tokeniser.index_tokens(b)
        for a, b in zip(words_old, words_new, strict=True)
    )
    print(
        f"{len(texts)} posts ({len(texts) - len(long_articles())} Weibo-length, {len(long_articles())} long)"
    )
    print(f"identical word lists:          {same_words}/{len(texts)} ({same_words / len(texts):.1%})")
    print(f"identical search-token lists:  {same_tokens}/{len(texts)} ({same_tokens / len(texts):.1%})")
    shown = 0
    for text, a, b in zip(joined, words_old, words_new, strict=True):
        if a != b and shown < 5:
            shown += 1
            only_old = [w for w in a if w not in set(b)]
            only_new = [w for w in b if w not in set(a)]
            print(f"  「{text.strip()[:40]}」 jieba only {only_old[:6]}, rjieba only {only_new[:6]}")

    before, after = analysed(old, texts), analysed(new, texts)
    for field in ("territory", "event", "level", "polarity", "sentiment", "responsible"):
        changed = [(p, q) for p, q in zip(before, after, strict=True) if labels(p)[field] != labels(q)[field]]
        print(f"posts whose {field} changed: {len(changed)}/{len(texts)}")
        for p, q in changed[:3]:
            print(f"  「{p.text[:40]}」 {labels(p)[field]} → {labels(q)[field]}")

    for name, tokeniser in (("jieba", old.tokeniser), ("rjieba", new.tokeniser)):
        start = time.perf_counter()
        for text in joined * 3:
            tokeniser.words(text)
        seconds = time.perf_counter() - start
        megabytes = 3 * sum(len(t.encode()) for t in joined) / 1e6
        print(
            f"{name:<8} words(): {3 * len(joined) / seconds:10,.0f} posts/s {megabytes / seconds:8.2f} MB/s"
        )


if __name__ == "__main__":
    main()
