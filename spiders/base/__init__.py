"""Shared bases for spiders of one kind of site."""

from spiders.base.news_portal import ArticleLayout, Listing, NewsPortalSpider

__all__ = ["ArticleLayout", "Listing", "NewsPortalSpider"]
