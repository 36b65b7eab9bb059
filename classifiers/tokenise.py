"""Chinese tokenisation with rjieba (jieba's dictionary and algorithm, compiled), taught the office's words.

Rule terms, place names and department keywords go into the user dictionary, so a token never splits
them ("濮阳县" stays one token). Documents are cut in search mode (whole words plus their parts), queries
in precise mode, so a query word finds documents that contain it whole or as part of a longer word.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any, TypeVar

from mypy_extensions import mypyc_attr

from classifiers.native import lower

_KEEP = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
V = TypeVar("V")


def _jieba_class() -> Any:
    """rjieba's `Jieba`, from its compiled module alone: the package's `__init__` builds a default instance
    at import, a second dictionary nothing here uses, which costs a tenth of a second at every start."""
    package = importlib.util.find_spec("rjieba")
    for folder in (package.submodule_search_locations or []) if package else []:
        for suffix in EXTENSION_SUFFIXES:
            path = Path(folder) / f"rjieba{suffix}"
            spec = importlib.util.spec_from_file_location("rjieba.rjieba", path)
            if path.is_file() and spec and spec.loader:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module.Jieba
    import rjieba  # laid out otherwise than expected: the ordinary way, at the ordinary cost

    return rjieba.Jieba


def user_word_frequency(word: str) -> int:
    """High enough that the whole word wins over its parts in the dictionary's path search."""
    return max(2000, 500 * len(word))


_Jieba = _jieba_class()


class Kept(dict[str, V]):
    """`work(word)` for each word asked, kept: the same words recur in every post, and a dictionary read
    through its own `__getitem__` looks up faster than an lru_cache. It stops growing at `_MAX_KEPT` words,
    and a word past those is worked out each time it comes."""

    def __init__(self, work: Callable[[str], V]) -> None:
        super().__init__()
        self.work = work

    def __missing__(self, word: str) -> V:
        value = self.work(word)
        if len(self) < _MAX_KEPT:
            self[word] = value
        return value


_MAX_KEPT = 1 << 16


def _reads_as(token: str) -> str:
    """The token lower-cased, or "" for punctuation and spaces."""
    return lower(token) if _KEEP.search(token) else ""


_word = Kept(_reads_as).__getitem__  # looking a token up costs half of testing and lowering it again


@mypyc_attr(allow_interpreted_subclasses=True)  # the benchmarks derive jieba's tokeniser from it
class Tokeniser:
    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = _Jieba()
        self.user_words = sorted({w.strip() for w in user_words if w and w.strip()})
        for word in self.user_words:
            self._jieba.add_word(word, user_word_frequency(word), None)

    def words(self, text: str) -> list[str]:
        """Precise-mode cut, lower-cased, punctuation and spaces dropped: what the classifiers read."""
        # map and filter keep the loop over the tokens inside the interpreter's C code (`_word` is a dict's
        # own lookup): a third faster than a comprehension calling a function.
        return list(filter(None, map(_word, self._jieba.cut(text))))

    def index_tokens(self, words: Iterable[str]) -> list[str]:
        """What gets indexed: each word preceded by its 2- and 3-character dictionary sub-words.

        The same expansion as jieba's search mode, done on words already cut so the text is cut once.
        """
        known = self._jieba.has_word
        out: list[str] = []
        for word in words:
            length = len(word)
            for size in (2, 3):
                if length > size:
                    out.extend(part for i in range(length - size + 1) if known(part := word[i : i + size]))
            out.append(word)
        return out

    def query_terms(self, query: str) -> list[str]:
        """Terms of a search query: precise-mode cut, the same normalisation as `words`."""
        return self.words(query)
