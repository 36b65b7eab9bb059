"""Scrapy settings for a patrol with spiders that fail as real code fails (`SCRAPY_SETTINGS_MODULE` names
this module): 新浪 crawls as shipped, the 微信 spider raises as it is made, and the 人民网 spider kills its
whole process once its first page is in."""

from __future__ import annotations

import os
from typing import Any

from config.settings import *  # the project's settings, with these spiders
from spiders.people_news import PeopleNewsSpider
from spiders.sina_news import SinaNewsSpider
from spiders.weixin_sogou import WeixinSogouSpider

SPIDER_MODULES = [__name__]
CRASH_EXIT_CODE = 70


class SinaNews(SinaNewsSpider):
    pass


class RaisingWeixin(WeixinSogouSpider):
    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("模拟的爬虫故障")


class CrashingPeople(PeopleNewsSpider):
    def parse_list(self, response: Any, page: int = 1) -> Any:
        os._exit(CRASH_EXIT_CODE)
