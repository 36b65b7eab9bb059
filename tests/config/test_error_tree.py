"""The tree of errors drawn in config/errors.py is the one the code has: every error the project raises on
purpose is a `YuqingError` named there under its real parent, and no class is defined twice."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter

import config.errors
from config.errors import YuqingError

PACKAGES = ("alerts", "classifiers", "commands", "config", "pipeline", "spiders")


def every_module() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.split(".")[0] in PACKAGES:
            found.append(sub)
        found.extend(subclasses(sub))
    return found


def drawn_tree() -> dict[str, str]:
    """Each class of the drawing with the class drawn as its parent."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (config.errors.__doc__ or "").splitlines():
        match = re.match(r"^([│ ]*)(?:[├└]── )?([A-Z]\w+(?:, [A-Z]\w+)*)", line)
        if not match or not ("──" in line or line.startswith("YuqingError")):
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        stack = [(d, n) for d, n in stack if d < depth]
        for name in match.group(2).split(", "):
            parents[name] = stack[-1][1] if stack else ""
        stack.append((depth, match.group(2).split(", ")[0]))
    return parents


def test_every_error_the_code_raises_on_purpose_is_drawn_under_its_parent() -> None:
    every_module()
    drawn = drawn_tree()
    real = {cls.__name__: cls.__bases__[0].__name__ for cls in subclasses(YuqingError)}
    assert real  # the walk found the errors
    missing = sorted(set(real) - set(drawn))
    assert missing == [], f"not in the drawing of config/errors.py: {missing}"
    for name, parent in real.items():
        if name not in ("DemoMissing", "AlreadyServing", "LeadershipLost"):  # drawn on one line together
            assert drawn[name] == parent, (name, drawn[name], parent)
    assert sorted(set(drawn) - set(real) - {"YuqingError"}) == []


def test_no_error_class_is_defined_twice() -> None:
    every_module()
    names = Counter(cls.__name__ for cls in subclasses(Exception) if cls.__module__.split(".")[0] in PACKAGES)
    assert [name for name, count in names.items() if count > 1] == []
