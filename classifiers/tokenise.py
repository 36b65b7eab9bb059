"""Chinese tokenisation with jieba, using an own `Tokenizer` that knows the office's words.

Rule terms, place names and department keywords go into the user dictionary, so a token never splits
them ("濮阳县" stays one token). Documents are cut in search mode (whole words plus their parts), queries
in precise mode, so a query word finds documents that contain it whole or as part of a longer word.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba

logging.getLogger("jieba").setLevel(logging.WARNING)

_KEEP = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


class Tokeniser:
    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.user_words = sorted({w.strip() for w in user_words if w and w.strip()})
        for word in self.user_words:
            # A high frequency makes jieba prefer the whole word over its parts.
            self._jieba.add_word(word, freq=max(2000, 500 * len(word)))

    def words(self, text: str) -> list[str]:
        """Precise-mode cut, lower-cased, punctuation and spaces dropped: what the classifiers read."""
        return [t.lower() for t in self._jieba.cut(text) if _KEEP.search(t)]

    def index_tokens(self, words: Iterable[str]) -> list[str]:
        """What gets indexed: each word preceded by its 2- and 3-character dictionary sub-words.

        The same expansion as jieba's search mode, done on words already cut so the text is cut once.
        """
        freq = self._jieba.FREQ
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

    def query_terms(self, query: str) -> list[str]:
        """Terms of a search query: precise-mode cut, the same normalisation as `tokens`."""
        return [t.lower() for t in self._jieba.cut(query) if _KEEP.search(t)]
