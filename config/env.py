"""Endpoints and secrets: from the environment or an ignored `.env`, never from the repo or the logs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Env(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    es_url: str | None = Field(default=None, validation_alias="ES_URL")
    es_index: str = Field(default="yuqing-posts", validation_alias="YUQING_ES_INDEX")
    data_dir: Path = Field(default=PROJECT_ROOT / "var", validation_alias="YUQING_DATA_DIR")
    replay_url: str | None = Field(default=None, validation_alias="YUQING_REPLAY_URL")
    state_dir_override: Path | None = Field(default=None, validation_alias="YUQING_STATE_DIR")
    outbox_override: Path | None = Field(default=None, validation_alias="YUQING_OUTBOX")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="YUQING_SMTP_PASSWORD")
    # m.weibo.cn cookies of a logged-in account, as a browser sends them ("SUB=...; SUBP=..."); Weibo asks for
    # a login on comments and, more and more, on search.
    weibo_cookie: SecretStr | None = Field(default=None, validation_alias="YUQING_WEIBO_COOKIE")
    # Set on every machine of a crawl shared through one Redis frontier (scrapy-redis); unset, one machine.
    redis_url: SecretStr | None = Field(default=None, validation_alias="YUQING_REDIS_URL")
    # The Chromium that renders JS pages; by default the system one on PATH (never a downloaded browser).
    chromium: Path | None = Field(default=None, validation_alias="YUQING_CHROMIUM")
    # Names one patrol across machines, so their crawls share one frontier; by default the patrol's minute.
    run_id: str | None = Field(default=None, validation_alias="YUQING_RUN_ID")

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def state_dir(self) -> Path:
        return self.state_dir_override or self.data_dir / "state"

    @property
    def outbox_path(self) -> Path:
        return self.outbox_override or self.data_dir / "alerts.sqlite3"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"


@lru_cache
def get_env() -> Env:
    return Env()
