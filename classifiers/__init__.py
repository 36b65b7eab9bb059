"""The analysis: rules, sentiment, severity, territory, departments, events. Its per-post modules run
compiled when a build of their present sources exists (classifiers/native.py)."""

from pathlib import Path

from classifiers.native import attach

DATA = Path(__file__).resolve().parent / "data"  # read by path: a compiled module's own file is elsewhere

attach(__path__, __name__)
