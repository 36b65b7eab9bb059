"""Keyword rules as analysts write them, compiled once and matched in one pass over the text.

Syntax: terms, "quoted phrases", whitespace or AND for and, | or OR for or, NOT or a leading - for not,
parentheses, `a NEAR/n b` (both within n characters), field scopes `title:` `text:` `author:` `source:`
`media:`. NOT binds tightest, then NEAR, then AND, then OR.

All terms of all rules go into one Aho-Corasick automaton, so a text is scanned once whatever the number
of rules, and a rule is evaluated only on a post holding one of a set of terms it cannot match without
(`失联` or `失踪` for `(失联|失踪) NEAR/20 孩子`).

A rule that would match nearly every post is refused when compiled (`too_broad`): one that is true of a
post containing none of its terms (only NOT terms, or `a | -b`), or of a post containing just one of its
terms when that term is a single character (`的`, `a`, `(爆炸|炸)`). A term must hold a letter, a digit or
a symbol such as an emoji: `*`, `?` and other punctuation alone are no wildcard here but literal text, so
they are refused too, as is a scope other than those above (`body:`).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import ahocorasick_rs

from classifiers.native import lower
from classifiers.types import Level, RuleHit

FIELDS = ("title", "text", "author", "source", "media")
DEFAULT_SCOPE = ("title", "text")
_OPERATOR_CHARS = set('()|"')


class RuleError(ValueError):
    """A rule that cannot be compiled; says which rule and at which character (counted from 1)."""

    def __init__(self, rule_id: str, position: int, message: str) -> None:
        super().__init__(f"规则 {rule_id} 第 {position + 1} 个字符处：{message}")
        self.rule_id = rule_id
        self.position = position
        self.message = message


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    expr: str
    name: str = ""
    category: str = ""
    weight: float = 1.0
    min_level: Level | None = None


# --- syntax tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    scope: tuple[str, ...]
    pos: int = dataclass_field(default=0, compare=False)  # where it is written, for errors


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int


Node = Term | Not | And | Or | Near


# --- lexer and parser ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # TERM PHRASE LPAREN RPAREN AND OR NOT NEAR FIELD END
    value: str
    pos: int


def _lex(rule_id: str, expr: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(_Token("RPAREN", ch, i))
            i += 1
        elif ch == "|":
            tokens.append(_Token("OR", ch, i))
            i += 1
        elif ch == "-" and (i + 1 < n and not expr[i + 1].isspace()):
            tokens.append(_Token("NOT", ch, i))
            i += 1
        elif ch == '"':
            end = expr.find('"', i + 1)
            if end < 0:
                raise RuleError(rule_id, i, '引号没有配对，缺少后一个 "')
            phrase = expr[i + 1 : end].strip()
            if not phrase:
                raise RuleError(rule_id, i, "引号里是空的")
            tokens.append(_Token("PHRASE", phrase, i))
            i = end + 1
        else:
            start = i
            while i < n and not expr[i].isspace() and expr[i] not in _OPERATOR_CHARS:
                if expr[i] == ":" and expr[start:i] in FIELDS:
                    break
                i += 1
            word = expr[start:i]
            scope, colon, _rest = word.partition(":")
            if i < n and expr[i] == ":" and word in FIELDS:
                tokens.append(_Token("FIELD", word, start))
                i += 1
            elif colon and scope.isalpha():
                # `body:` or `标题:` reads as a scope; taken as text it would quietly match nothing.
                raise RuleError(
                    rule_id,
                    start,
                    f"没有 {scope}: 这个范围，可用的范围有 {'、'.join(f + ':' for f in FIELDS)}"
                    "（要找含冒号的文字，请加双引号）",
                )
            elif word in ("AND", "OR", "NOT"):
                tokens.append(_Token(word, word, start))
            elif word.startswith("NEAR/"):
                distance = word[5:]
                if not distance.isdigit() or int(distance) == 0:
                    raise RuleError(rule_id, start, f"NEAR 后面要写正整数距离，如 NEAR/20，这里写的是 {word}")
                tokens.append(_Token("NEAR", distance, start))
            else:
                tokens.append(_Token("TERM", word, start))
    tokens.append(_Token("END", "", n))
    return tokens


class _Parser:
    def __init__(self, rule_id: str, expr: str) -> None:
        self.rule_id = rule_id
        self.tokens = _lex(rule_id, expr)
        self.i = 0

    def error(self, message: str) -> RuleError:
        return RuleError(self.rule_id, self.peek.pos, message)

    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise self.error("表达式是空的")
        node = self.parse_or(DEFAULT_SCOPE)
        if self.peek.kind == "RPAREN":
            raise self.error("多了一个右括号 )")
        if self.peek.kind != "END":
            raise self.error(f"这里不应出现 {self.peek.value}")
        return node

    def parse_or(self, scope: tuple[str, ...]) -> Node:
        children = [self.parse_and(scope)]
        while self.peek.kind == "OR":
            self.take()
            children.append(self.parse_and(scope))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, scope: tuple[str, ...]) -> Node:
        children = [self.parse_near(scope)]
        while self.peek.kind in ("AND", "TERM", "PHRASE", "LPAREN", "NOT", "FIELD"):
            if self.peek.kind == "AND":
                self.take()
            children.append(self.parse_near(scope))
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_near(self, scope: tuple[str, ...]) -> Node:
        node = self.parse_unary(scope)
        while self.peek.kind == "NEAR":
            token = self.take()
            right = self.parse_unary(scope)
            for side in (node, right):
                if not _is_positional(side):
                    raise RuleError(self.rule_id, token.pos, "NEAR 两边只能是词、短语或 (甲|乙) 这样的组")
            node = Near(node, right, int(token.value))
        return node

    def parse_unary(self, scope: tuple[str, ...]) -> Node:
        if self.peek.kind == "NOT":
            self.take()
            return Not(self.parse_unary(scope))
        return self.parse_primary(scope)

    def parse_primary(self, scope: tuple[str, ...]) -> Node:
        token = self.peek
        if token.kind == "FIELD":
            self.take()
            return self.parse_primary((token.value,))
        if token.kind == "LPAREN":
            self.take()
            if self.peek.kind == "RPAREN":
                raise self.error("括号里是空的")
            node = self.parse_or(scope)
            if self.peek.kind != "RPAREN":
                raise RuleError(self.rule_id, token.pos, "左括号 ( 没有对应的右括号 )")
            self.take()
            return node
        if token.kind in ("TERM", "PHRASE"):
            self.take()
            if not any(_is_wordlike(ch) for ch in token.value):
                hint = "这里没有通配符，" if set(token.value) & set("*?%") else ""
                raise RuleError(
                    self.rule_id,
                    token.pos,
                    f"“{token.value}”里没有文字或数字，{hint}它只会照字面匹配标点符号",
                )
            return Term(lower(token.value), scope, token.pos)
        if token.kind == "END":
            raise self.error("表达式在这里结束了，但这里还应有一个词")
        raise self.error(f"这里应是一个词，却是 {token.value}")


def _is_wordlike(ch: str) -> bool:
    """A letter, a digit or a symbol such as an emoji, unlike punctuation, operators and spaces."""
    return unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "So"


def _is_positional(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    return isinstance(node, Or) and all(_is_positional(c) for c in node.children)


def parse_rule(rule_id: str, expr: str) -> Node:
    return _Parser(rule_id, expr).parse()


def positive_terms(node: Node) -> set[str]:
    """Terms whose presence can make the rule match (the ones under no NOT)."""
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Not):
        return set()
    if isinstance(node, Near):
        return positive_terms(node.left) | positive_terms(node.right)
    return set().union(*(positive_terms(c) for c in node.children))


def all_terms(node: Node) -> set[str]:
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Not):
        return all_terms(node.child)
    if isinstance(node, Near):
        return all_terms(node.left) | all_terms(node.right)
    return set().union(*(all_terms(c) for c in node.children))


# --- matching ------------------------------------------------------------------------------------------

# (field, term) -> start offsets where the term occurs in that field
Occurrences = Mapping[tuple[str, str], list[int]]


# A rule compiled to one function of the post's occurrences, adding the terms that made it true to `hits`:
# walking the tree for every post, and gathering a NEAR's spans before knowing both sides are present, cost
# more than the matching itself.
Check = Callable[[Occurrences, set[str]], bool]


def _compile(node: Node) -> Check:
    if isinstance(node, Term):
        return _compile_terms([node])
    if isinstance(node, Not):
        if isinstance(node.child, Term) or (
            isinstance(node.child, Or) and all(isinstance(c, Term) for c in node.child.children)
        ):
            # `-演练`, `-(电影|电视剧)`: true when none of the keys occurs, asked of the keys at once.
            absent = frozenset(_spans_keys(node.child))
            return lambda occ, hits: occ.keys().isdisjoint(absent)
        inner = _compile(node.child)
        return lambda occ, hits: not inner(occ, set())
    if isinstance(node, And):
        parts = [_compile(c) for c in node.children]

        def every(occ: Occurrences, hits: set[str]) -> bool:
            local: set[str] = set()
            for part in parts:
                if not part(occ, local):
                    return False
            hits |= local
            return True

        return every
    if isinstance(node, Or):
        terms = [c for c in node.children if isinstance(c, Term)]
        others = [_compile(c) for c in node.children if not isinstance(c, Term)]
        flat = _compile_terms(terms) if terms else None
        if not others and flat is not None:
            return flat

        def some(occ: Occurrences, hits: set[str]) -> bool:
            # Every child is asked, none skipped: the reasons name all the terms that matched.
            found = flat(occ, hits) if flat is not None else False
            for part in others:
                found = part(occ, hits) or found
            return found

        return some
    assert isinstance(node, Near)
    return _compile_near(node)


def _compile_terms(terms: list[Term]) -> Check:
    """Any of these terms, in its scopes: a look-up per (field, term) key, or per occurrence when the post
    has fewer occurrences than the rule has keys."""
    keys = {(field, term.text): term.text for term in terms for field in term.scope}

    def any_term(occ: Occurrences, hits: set[str]) -> bool:
        found = False
        if len(occ) < len(keys):
            for key in occ:
                if (text := keys.get(key)) is not None:
                    hits.add(text)
                    found = True
        else:
            for key, text in keys.items():
                if key in occ:
                    hits.add(text)
                    found = True
        return found

    return any_term


def _spans_keys(node: Node) -> list[tuple[str, str]]:
    """The (field, term) keys of a positional node: a term, or an OR of positional nodes."""
    if isinstance(node, Term):
        return [(field, node.text) for field in node.scope]
    assert isinstance(node, Or)
    return [key for child in node.children for key in _spans_keys(child)]


def _key_order(node: Node) -> dict[tuple[str, str], int]:
    """Each (field, term) key of a positional node with its place in the order written (a key written twice
    keeps its first place: its spans were tried there already)."""
    order: dict[tuple[str, str], int] = {}
    for key in _spans_keys(node):
        order.setdefault(key, len(order))
    return order


def _compile_near(node: Near) -> Check:
    left_order, right_order, distance = _key_order(node.left), _key_order(node.right), node.distance

    def spans(order: dict[tuple[str, str], int], occ: Occurrences) -> list[tuple[str, int, int, str]]:
        # The spans in the order the keys are written, which decides the terms a hit names. A post holds a
        # few keys and a side of NEAR often dozens, so the smaller of the two is walked.
        if len(occ) < len(order):
            keys = sorted([key for key in occ if key in order], key=order.__getitem__)
        else:
            keys = [key for key in order if key in occ]
        return [(field, start, start + len(text), text) for field, text in keys for start in occ[field, text]]

    def near(occ: Occurrences, hits: set[str]) -> bool:
        left = spans(left_order, occ)
        if not left:
            return False
        right = spans(right_order, occ)
        for lf, ls, le, lt in left:
            for rf, rs, re_, rt in right:
                if lf == rf and (rs - le if rs >= le else ls - re_) <= distance:
                    hits.update((lt, rt))
                    return True
        return False

    return near


@dataclass(frozen=True, slots=True)
class _Compiled:
    spec: RuleSpec
    tree: Node
    check: Check = dataclass_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", _compile(self.tree))


class RuleSet:
    """Compiled rules: `match(fields)` returns the rules a document satisfies, with the terms that did it."""

    def __init__(self, rules: list[_Compiled]) -> None:
        self.rules = rules
        self._by_term: dict[str, list[int]] = defaultdict(list)
        terms: set[str] = set()
        for index, rule in enumerate(rules):
            for term in _looked_up_by(rule.tree):
                self._by_term[term].append(index)
            terms |= all_terms(rule.tree)
        self.terms = frozenset(terms)
        self._patterns = sorted(terms)
        # The fields `match` scans: those some term is looked for in (title and text, unless a rule names
        # another). A term found elsewhere would only make rules candidates, and a rule none of whose
        # positive terms occurs where it looks is false, as `too_broad` makes sure. A rule that can be true
        # without them (one built without `compile_rules`, or with a NOT inside a NOT) has every field given
        # scanned (None).
        self._fields_read: tuple[str, ...] | None = None
        if not any(_holds_with(rule.tree, frozenset()) or _not_in_not(rule.tree) for rule in rules):
            named = {field for rule in rules for term in _terms(rule.tree) for field in term.scope}
            self._fields_read = tuple(field for field in FIELDS if field in named)
        # ahocorasick_rs (Rust): several times faster over a post than pyahocorasick, the same matches. Its
        # DFA finds them in a post alone a little faster, but at 1.5 MB it slows the rest of the stage more.
        self._automaton = ahocorasick_rs.AhoCorasick(self._patterns) if terms else None

    def __len__(self) -> int:
        return len(self.rules)

    def occurrences(self, fields: Mapping[str, str | None]) -> dict[tuple[str, str], list[int]]:
        return self._occurrences(fields, None)

    def _occurrences(
        self, fields: Mapping[str, str | None], only: tuple[str, ...] | None
    ) -> dict[tuple[str, str], list[int]]:
        occ: dict[tuple[str, str], list[int]] = defaultdict(list)
        automaton, patterns = self._automaton, self._patterns
        if automaton is None:
            return occ
        for field in fields if only is None else only:
            if value := fields.get(field):
                for index, start, _end in automaton.find_matches_as_indexes(lower(value), overlapping=True):
                    occ[(field, patterns[index])].append(start)
        return occ

    def match(self, fields: Mapping[str, str | None]) -> list[RuleHit]:
        occ = self._occurrences(fields, self._fields_read)
        by_term = self._by_term
        candidates = sorted({i for (_, term) in occ for i in by_term.get(term, ())})
        hits: list[RuleHit] = []
        rules = self.rules
        for index in candidates:
            rule = rules[index]
            terms: set[str] = set()
            if rule.check(occ, terms):
                spec = rule.spec
                hits.append(RuleHit(spec.id, spec.name, spec.category, spec.weight, tuple(sorted(terms))))
        return hits


def _required(node: Node) -> list[set[str]]:
    """Sets of terms of which at least one each occurs (where the node looks) in any post it is true of."""
    if isinstance(node, Term):
        return [{node.text}]
    if isinstance(node, Not):
        return []
    if isinstance(node, Near):
        return _required(node.left) + _required(node.right)
    if isinstance(node, And):
        return [group for child in node.children for group in _required(child)]
    # An OR is true through one of its children, so through one term of each child's smallest set.
    group: set[str] = set()
    for child in node.children:
        required = _required(child)
        if not required:
            return []
        group |= min(required, key=len)
    return [group]


def _looked_up_by(tree: Node) -> set[str]:
    """The terms a rule is evaluated on: the smallest set it requires one of (a rule on 失联 NEAR 孩子 then
    waits for 失联, not for every post about a child), else every term that can make it true."""
    required = _required(tree)
    return min(required, key=len) if required else positive_terms(tree)


def _not_in_not(node: Node, negated: bool = False) -> bool:
    """Whether a NOT stands inside another NOT (`--a`), which makes a term true by its absence."""
    if isinstance(node, Term):
        return False
    if isinstance(node, Not):
        return negated or _not_in_not(node.child, True)
    if isinstance(node, Near):
        return _not_in_not(node.left, negated) or _not_in_not(node.right, negated)
    return any(_not_in_not(child, negated) for child in node.children)


def _holds_with(node: Node, present: frozenset[str]) -> bool:
    """Whether the rule is true of a post holding exactly the terms `present` of its own, wherever and
    however close (NEAR is then as good as AND)."""
    if isinstance(node, Term):
        return node.text in present
    if isinstance(node, Not):
        return not _holds_with(node.child, present)
    if isinstance(node, Near):
        return _holds_with(node.left, present) and _holds_with(node.right, present)
    if isinstance(node, And):
        return all(_holds_with(c, present) for c in node.children)
    return any(_holds_with(c, present) for c in node.children)


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return _terms(node.child)
    if isinstance(node, Near):
        return _terms(node.left) + _terms(node.right)
    return [t for c in node.children for t in _terms(c)]


def too_broad(rule_id: str, tree: Node) -> RuleError | None:
    """Why a rule would match nearly every post, or None (see the module docstring for the definition)."""
    if _holds_with(tree, frozenset()):
        return RuleError(
            rule_id,
            0,
            "不含其中任何一个词的帖子也算命中，几乎每条帖子都会命中（只有 NOT 或减号条件，或在 | 的一边）；"
            "请加上必须出现的词",
        )
    for term in _terms(tree):
        if len(term.text) == 1 and _holds_with(tree, frozenset({term.text})):
            return RuleError(
                rule_id,
                term.pos,
                f"只出现单个字“{term.text}”就算命中，几乎每条帖子都会命中；请写成词，或与其他词同时出现",
            )
    return None


def compile_rules(specs: Iterable[RuleSpec | tuple[str, str]]) -> RuleSet:
    compiled: list[_Compiled] = []
    for spec in specs:
        if isinstance(spec, tuple):
            spec = RuleSpec(id=spec[0], expr=spec[1])
        tree = parse_rule(spec.id, spec.expr)
        if error := too_broad(spec.id, tree):
            raise error
        compiled.append(_Compiled(spec, tree))
    return RuleSet(compiled)
