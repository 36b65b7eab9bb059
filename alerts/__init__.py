"""Alerts and the cases they open: routing, delivery, the claim workflow. Its per-post module (routing)
runs compiled when a build of its present sources exists (classifiers/native.py)."""

from classifiers.native import attach

attach(__path__, __name__)
