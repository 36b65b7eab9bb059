"""Scrapy settings: politeness, the stage order, and the components that can be switched off.

Stage order is written here once; `yuqing analyze` and the offline runner derive it from ITEM_PIPELINES.
"""

from config.logtime import DATE_FORMAT, use_beijing_time

BOT_NAME = "yuqing"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Chosen per source in sources.yaml; the public news lists are what the seeds ask an office to read.
ROBOTSTXT_OBEY = False
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 30
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
RETRY_TIMES = 3
# 429 is retried with backoff first (spiders.politeness); only a 429 that outlasts the retries is a refusal.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
YUQING_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled for each further one
YUQING_RETRY_BACKOFF_MAX = 60.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# Log times in Beijing time with the offset, whatever the machine's zone. Set as these settings are read,
# before Scrapy logs its first line, so that every line of a crawl's log has it.
LOG_DATEFORMAT = DATE_FORMAT
use_beijing_time()
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# No page or API answer of a watched site comes near this; a bigger one (a runaway page, an endless stream)
# is cut off, logged and counted per source as `too_large` (spiders.limits). `yuqing extract` reads files
# and URLs under the same limit.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    "spiders.render.RenderMiddleware": 45,  # before replay: rendered pages are replayed in the browser
    "spiders.middlewares.ReplayMiddleware": 50,
    "spiders.politeness.SourceProxyMiddleware": 100,
    # Just inside the retries: judges the answer left when they are spent, and every redirect target.
    "spiders.health.SourceHealthMiddleware": 540,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.politeness.BackoffRetryMiddleware": 550,
    # Nearest the download, so it sees a cut-off download before any other middleware can answer for it.
    "spiders.limits.DownloadSizeMiddleware": 950,
}

ITEM_PIPELINES = {
    "pipeline.stages.clean.CleanPipeline": 100,
    "pipeline.stages.dedupe.DedupePipeline": 200,
    "pipeline.stages.tokenise.TokenisePipeline": 300,
    "pipeline.stages.classify.ClassifyPipeline": 400,
    "pipeline.stages.locate.LocatePipeline": 500,
    "pipeline.stages.event.EventPipeline": 550,
    # After the event stage, which may raise the level: routing on any earlier level misses recipients.
    "pipeline.stages.route.RoutePipeline": 560,
    "pipeline.stages.index.IndexPipeline": 600,
    "pipeline.stages.alert.AlertPipeline": 700,
}

EXTENSIONS = {
    "pipeline.guards.SecretMasking": 0,  # first, so that no later component logs a secret
    "pipeline.guards.DiskFullGuard": 100,
    # Before the run record, which then carries the health verdict and whether it was alerted.
    "pipeline.extensions.SourceHealthExtension": 400,
    "pipeline.extensions.RunRecordExtension": 500,
}
