"""The crawl's stages and stores. Its per-post modules run compiled when a build of their present sources
exists (classifiers/native.py)."""

from classifiers.native import attach

attach(__path__, __name__)
