"""Territory: which province, city, counties and townships a post concerns, with confidence and reasons.

Names come from the office's gazetteer (config/territory.yaml). Evidence is weighed so that a bare
township name that several counties share, or a short county name with no city around it, does not
place a post on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick_rs

from classifiers.types import Territory


@dataclass(frozen=True, slots=True)
class CountyPlaces:
    name: str
    aliases: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    landmarks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Gazetteer:
    province: str
    city: str
    counties: tuple[CountyPlaces, ...]
    province_aliases: tuple[str, ...] = ()
    city_aliases: tuple[str, ...] = ()
    city_landmarks: tuple[str, ...] = ()
    # Names of divisions elsewhere in China (national data): seeing one makes weak local evidence
    # (a township, a short county name, a landmark) doubtful, as it may be a same-named place there.
    elsewhere: tuple[str, ...] = ()


# What a post naming no local place gets; one frozen record for them all, as making it cost as much as
# finding that the post names none.
_NOWHERE = Territory(None, None, (), (), 0.0, ("未提到本地地名",))


class _Evidence:
    """What a post's place names say, gathered name by name. One per post that names a place: a plain
    class, whose `__init__` is compiled (classifiers/native.py), not a dataclass's."""

    def __init__(self) -> None:
        self.city: list[str] = []
        self.province: list[str] = []
        self.counties: dict[str, list[str]] = defaultdict(list)
        self.weak_counties: dict[str, list[str]] = defaultdict(list)
        self.weak_names: dict[str, set[str]] = defaultdict(set)
        self.townships: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.elsewhere: list[str] = []


class TerritoryLocator:
    """Built once from a gazetteer; `locate` is a pure function of a post's text fields."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        entries: dict[str, list[tuple[str, str]]] = defaultdict(list)  # name -> [(kind, county)]
        for name in (gazetteer.province, *gazetteer.province_aliases):
            entries[name].append(("province", ""))
        for name in (gazetteer.city, *gazetteer.city_aliases, *gazetteer.city_landmarks):
            entries[name].append(("city", ""))
        for county in gazetteer.counties:
            for name in (county.name, *county.aliases):
                entries[name].append(("county", county.name))
            for name in county.landmarks:
                entries[name].append(("landmark", county.name))
            for name in county.townships:
                entries[name].append(("township", county.name))
        for name in gazetteer.elsewhere:
            if name not in entries:
                entries[name].append(("elsewhere", ""))
        self._names = list(entries)
        self._kinds = [tuple(entries[name]) for name in self._names]
        # ahocorasick_rs (Rust) scans a post several times faster than pyahocorasick's automaton does
        # with the thousands of names of the national data, and finds the same matches.
        self._automaton = ahocorasick_rs.AhoCorasick(self._names)
        self._county_order = {c.name: i for i, c in enumerate(gazetteer.counties)}

    def _scan(self, text: str, where: str, matches: list[tuple[int, int]], evidence: _Evidence) -> None:
        for index, end in matches:
            name = self._names[index]
            # 范县长 is Mr 范, the county head (范县's own is written 范县县长): a surname before a title.
            if len(name) == 2 and name[-1] in "县区" and text[end : end + 1] == "长":
                continue
            label = f"{where}提到「{name}」"
            for kind, county in self._kinds[index]:
                if kind == "elsewhere":
                    evidence.elsewhere.append(name)
                elif kind == "province":
                    evidence.province.append(label)
                elif kind == "city":
                    evidence.city.append(label)
                elif kind in ("county", "landmark") and len(name) >= 3:
                    # Full names and the three-or-more-character landmarks the office lists as only its own.
                    evidence.counties[county].append(label)
                elif kind in ("county", "landmark"):
                    evidence.weak_counties[county].append(label)
                    evidence.weak_names[county].add(name)
                else:
                    evidence.townships[name].append((county, label))

    def locate(
        self,
        *,
        title: str | None = None,
        text: str = "",
        author_location: str | None = None,
        ip_location: str | None = None,
        words: Sequence[str] = (),
    ) -> Territory:
        """`words`, the post's jieba words, tell a short name standing as a word (「范县」一货车) from one
        inside a longer word (模「范县」长)."""
        g = self.gazetteer
        ip_in_province = ip_location is not None and any(
            name in ip_location for name in (g.province, *g.province_aliases)
        )
        scans = [
            (value, where, matches)
            for value, where in ((title, "标题"), (text, "正文"), (author_location, "作者所在地"))
            if value and (matches := _longest_matches(self._automaton, value))
        ]
        if not scans and not ip_in_province:
            # Half of all posts name no place of the gazetteer: nothing below could place them, and the
            # evidence it would weigh, built for nothing, cost more than the scans.
            return _NOWHERE
        evidence = _Evidence()
        for value, where, matches in scans:
            self._scan(value, where, matches, evidence)
        # A short county name standing as a word, or next to one of its own townships, vouches for itself.
        whole_words = set(words) if evidence.weak_counties else set()  # read for short names only
        for county in list(evidence.weak_counties):
            own_township = any(county == c for owners in evidence.townships.values() for c, _ in owners)
            # The short name itself must stand as a word (「南乐」仓颉陵, 「清丰」的), not inside one (模范县长).
            if own_township or evidence.weak_names[county] & whole_words:
                evidence.counties[county].extend(evidence.weak_counties.pop(county))
            elif any(n in w for n in evidence.weak_names[county] for w in whole_words if len(w) > len(n)):
                del evidence.weak_counties[county]
        has_context = bool(evidence.city or evidence.province or ip_in_province or evidence.counties)
        strong = bool(evidence.city or evidence.counties)
        doubtful = bool(evidence.elsewhere) and not strong
        if doubtful:
            has_context = False

        counties: dict[str, list[str]] = {k: list(v) for k, v in evidence.counties.items()}
        # Short names and landmarks count only where the city or province is in view.
        for county, labels in evidence.weak_counties.items():
            if has_context or county in counties:
                counties.setdefault(county, []).extend(labels)
        # A township places a post only when its county is unambiguous: named, or the only one holding it.
        townships: list[str] = []
        for name, owners in evidence.townships.items():
            owner_counties = {c for c, _ in owners}
            named = owner_counties & counties.keys()
            if named:
                chosen = named
            elif len(owner_counties) == 1 and has_context and not doubtful:
                chosen = owner_counties
            else:
                continue
            townships.append(name)
            for county in chosen:
                counties.setdefault(county, []).extend(label for c, label in owners if c == county)

        reasons: list[str] = []
        ordered = sorted(counties, key=self._county_order.__getitem__)
        for county in ordered:
            reasons.append(f"{county}: {'；'.join(dict.fromkeys(counties[county]))}")
        if evidence.city:
            reasons.append(f"{g.city}: {'；'.join(dict.fromkeys(evidence.city))}")
        if ip_in_province:
            reasons.append(f"IP属地「{ip_location}」在{g.province}")

        if ordered or evidence.city:
            confidence = 0.9 if (ordered and has_context) or evidence.city else 0.7
            if not ordered and not evidence.counties:
                confidence = 0.8
            return Territory(g.province, g.city, tuple(ordered), tuple(townships), confidence, tuple(reasons))
        if doubtful:
            reasons.append(
                f"提到外地「{'」「'.join(dict.fromkeys(evidence.elsewhere))}」，本地同名地名不作为依据"
            )
        if evidence.province or ip_in_province:
            reasons.extend(dict.fromkeys(evidence.province))
            return Territory(g.province, None, (), (), 0.4 if evidence.province else 0.2, tuple(reasons))
        return _NOWHERE


def _longest_matches(automaton: ahocorasick_rs.AhoCorasick, text: str) -> list[tuple[int, int]]:
    """The names matched that are not inside a longer match (「濮阳县」 is not also 「濮阳」), as (index,
    end), in the order they occur."""
    found = automaton.find_matches_as_indexes(text, overlapping=True)
    if len(found) > 1:
        found.sort(key=lambda m: (m[1], -m[2]))
    kept: list[tuple[int, int]] = []
    covered_until = 0  # end (exclusive) of the matches kept so far
    for index, _start, end in found:
        if end <= covered_until:
            continue
        kept.append((index, end))
        covered_until = max(covered_until, end)
    return kept
