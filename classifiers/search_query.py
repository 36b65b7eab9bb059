"""Search queries in the syntax of the keyword rules, read by the rules' own parser.

An analyst types what a rule would say: `化工厂 排污 -演练`, `(停水|断水) 清丰`, `title:(通报|回应)`,
`强拆 NEAR/20 打人`, `"12345 热线"`. A post is found exactly when that expression, compiled as a rule, matches
the post (terms are found in the text as rules find them; `-` leaves posts out; a scope looks only there).

A store cannot run the rule over every post it holds, so the query also gives `index`: what its search index
can narrow to (the tokens of the terms a match must contain, with AND and OR), a superset of the matches
that the store reads in rank order and then checks post by post with the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from classifiers.rules import (
    FIELDS,
    And,
    Near,
    Node,
    Not,
    Or,
    RuleError,
    RuleSet,
    RuleSpec,
    Term,
    compile_rules,
    parse_rule,
)
from classifiers.tokenise import Tokeniser

# The fields the search index holds tokens of; a term looked for only in another (author:, source:,
# media:) cannot narrow the index.
INDEXED = frozenset({"title", "text"})
QUERY_ID = "检索式"


@dataclass(frozen=True, slots=True)
class Tokens:
    """Posts whose index holds every one of these tokens."""

    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[IndexQuery, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[IndexQuery, ...]


IndexQuery = Tokens | AllOf | AnyOf


class SearchQueryError(ValueError):
    """A query that cannot be searched, said in Chinese with the character it went wrong at (from 1)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"检索式第 {position + 1} 个字符处：{message}")
        self.message = message
        self.position = position

    def naming(self, typed: str) -> str:
        """The error with the query it is about, e.g. 检索式「title:(」第 8 个字符处：…"""
        where = "" if self.position is None else f"第 {self.position + 1} 个字符处"
        return f"检索式「{typed}」{where}：{self.message}"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    typed: str
    tree: Node
    index: IndexQuery
    _rule: RuleSet
    # Narrowing that the stores' own filters do not hold: only posts about one of these counties, or of
    # one of these polarities (正面 positive, 负面 negative, 中性 neutral as `Polarity` values).
    counties: frozenset[str] = frozenset()
    polarities: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()  # only posts of these events (`analysis.event_id`)
    newest_first: bool = False  # else best match first, then newest

    def matched_terms(self, doc: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The terms that made a stored post (its JSON document) match, or None when it does not."""
        analysis = doc.get("analysis") or {}
        if self.counties:
            counties = (analysis.get("territory") or {}).get("counties") or ()
            if self.counties.isdisjoint(counties):
                return None
        if self.polarities and analysis.get("polarity") not in self.polarities:
            return None
        if self.events and analysis.get("event_id") not in self.events:
            return None
        hits = self._rule.match({field: _text(doc.get(field)) for field in FIELDS})
        return hits[0].terms if hits else None

    def matches(self, doc: Mapping[str, Any]) -> bool:
        return self.matched_terms(doc) is not None

    def narrowed(
        self,
        *,
        counties: Iterable[str] = (),
        polarities: Iterable[str] = (),
        events: Iterable[str] = (),
        newest_first: bool = False,
    ) -> SearchQuery:
        return replace(
            self,
            counties=frozenset(counties),
            polarities=frozenset(polarities),
            events=frozenset(events),
            newest_first=newest_first,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_search(typed: str, tokeniser: Tokeniser) -> SearchQuery:
    """The query as typed, read as a rule; `SearchQueryError` names what is wrong and where."""
    try:
        tree = parse_rule(QUERY_ID, typed)
        rules = compile_rules([RuleSpec(id=QUERY_ID, expr=typed)])
    except RuleError as error:
        raise SearchQueryError(error.message, error.position) from None
    index = _index(tree, tokeniser)
    if index is None:
        raise SearchQueryError(
            "检索式里没有可在索引中查找的词：只按 author:、source:、media: 查找，或只有减号的词，"
            "请再写一个要在标题或正文中出现的词"
        )
    return SearchQuery(typed, tree, index, rules)


def _index(node: Node, tokeniser: Tokeniser) -> IndexQuery | None:
    """What the index must hold for the node to be true of a post, or None when the index cannot say
    (a NOT, a term of an unindexed field): every post is then a candidate as far as this node goes."""
    if isinstance(node, Term):
        if not INDEXED & set(node.scope):
            return None
        tokens = tuple(dict.fromkeys(tokeniser.query_terms(node.text)))
        return Tokens(tokens) if tokens else None
    if isinstance(node, Not):
        return None
    if isinstance(node, Near):
        return _all([_index(node.left, tokeniser), _index(node.right, tokeniser)])
    parts = [_index(child, tokeniser) for child in node.children]
    if isinstance(node, And):
        return _all(parts)
    assert isinstance(node, Or)
    if any(part is None for part in parts):
        return None
    return AnyOf(tuple(part for part in parts if part is not None))


def _all(parts: list[IndexQuery | None]) -> IndexQuery | None:
    known = [part for part in parts if part is not None]
    if not known:
        return None
    return known[0] if len(known) == 1 else AllOf(tuple(known))


def fts5(query: IndexQuery) -> str:
    """The index query as an SQLite FTS5 expression, each token quoted so none is read as syntax."""
    if isinstance(query, Tokens):
        return " AND ".join('"' + token.replace('"', '""') + '"' for token in query.tokens)
    joiner = " AND " if isinstance(query, AllOf) else " OR "
    return joiner.join(f"({fts5(part)})" for part in query.parts)


def elasticsearch(query: IndexQuery, field: str) -> dict[str, Any]:
    """The index query as an Elasticsearch query on the tokens field."""
    if isinstance(query, Tokens):
        return {"match": {field: {"query": " ".join(query.tokens), "operator": "and"}}}
    clauses = [elasticsearch(part, field) for part in query.parts]
    if isinstance(query, AllOf):
        return {"bool": {"must": clauses}}
    return {"bool": {"should": clauses, "minimum_should_match": 1}}
