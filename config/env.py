"""Endpoints and secrets: from the environment or an ignored `.env`, never from the repo or the logs.

Everything the program writes lives in one data folder (`YUQING_DATA_DIR`, default `var/`); the paths
below are the only places its layout is spelled out, so the demo can run whole in a folder of its own."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Self

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Names of what a person may set in the environment and a patrol gives each of its crawls as a Scrapy
# setting instead: the patrol's name (for a shared Redis frontier) and the replay server.
RUN_ID = "YUQING_RUN_ID"
REPLAY_URL = "YUQING_REPLAY_URL"
# The ignored file of settings and secrets beside the code (`./yuqing` runs from there); the variable names
# another, or an empty one, as the tests do so that no developer's secrets reach them.
ENV_FILE_VARIABLE = "YUQING_ENV_FILE"


@lru_cache
def _dotenv(path: Path) -> dict[str, str]:
    """The variables of one `.env` file, read once per process."""
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def env_file() -> Path:
    return Path(os.environ.get(ENV_FILE_VARIABLE) or PROJECT_ROOT / ".env")


def environment() -> dict[str, str]:
    """Where every setting and secret is looked up: the process environment over the `.env` file (a variable
    set empty leaves the file's value). The one place that reads that file."""
    return {**_dotenv(env_file()), **{k: v for k, v in os.environ.items() if v}}


class Env(BaseSettings):
    # Filled from `environment()` by `get_env`, which has read `.env` already.
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    es_url: str | None = Field(default=None, validation_alias="ES_URL")
    es_index: str = Field(default="yuqing-posts", validation_alias="YUQING_ES_INDEX")
    data_dir: Path = Field(default=PROJECT_ROOT / "var", validation_alias="YUQING_DATA_DIR")
    # The demo's data folder: its posts, alerts and source health are invented, so they stay in that
    # folder, never in the office's Elasticsearch, Redis frontier or an outbox named elsewhere, whatever
    # the environment or `.env` say.
    demo: bool = Field(default=False, validation_alias="YUQING_DEMO")
    replay_url: str | None = Field(default=None, validation_alias="YUQING_REPLAY_URL")
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
    # The alerts database on a PostgreSQL server (postgresql+psycopg://user:password@host/name), shared by
    # every machine that runs `serve` or the console; unset, the SQLite file at outbox_path.
    db_url: SecretStr | None = Field(default=None, validation_alias="YUQING_DB_URL")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Crawl processes run from the project root: a relative folder must mean the same place there.
        return value.absolute()

    @model_validator(mode="after")
    def _demo_keeps_to_its_folder(self) -> Self:
        if self.demo:
            self.es_url = None
            self.outbox_override = None
            self.redis_url = None
            self.db_url = None
        return self

    def process_vars(self) -> dict[str, str]:
        """What a child process (a crawl) needs in its environment to use this same data folder."""
        return {"YUQING_DATA_DIR": str(self.data_dir), "YUQING_DEMO": "1" if self.demo else "0"}

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def spool_dir(self) -> Path:
        """Posts Elasticsearch could not take yet."""
        return self.store_dir / "spool"

    @property
    def state_dir(self) -> Path:
        """Where each source's crawl stopped (incremental state)."""
        return self.data_dir / "state"

    @property
    def outbox_path(self) -> Path:
        """Alerts, deliveries, silences and cases."""
        return self.outbox_override or self.data_dir / "alerts.sqlite3"

    @property
    def rules_path(self) -> Path:
        """The analysts' rules version in force (alerts/rulebook.py writes it from the alerts database);
        where it exists it is read in place of the config folder's rules.yaml."""
        return rules_path(self.data_dir)

    @property
    def events_path(self) -> Path:
        """Which posts report the same incident."""
        return self.data_dir / "events.sqlite3"

    @property
    def runs_dir(self) -> Path:
        """One record per crawl: stats, finish reason, health verdict."""
        return self.data_dir / "runs"

    @property
    def health_dir(self) -> Path:
        """Each source's health: state, since when, how many crawls in a row."""
        return self.data_dir / "health"

    @property
    def serve_state_path(self) -> Path:
        """What `serve` remembers across restarts: the last slot patrolled, each checkpoint's patrol."""
        return self.data_dir / "serve-state.json"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def demo_dir(self) -> Path:
        """The last complete demo's data folder (a link to one of `demo_builds_dir`)."""
        return self.data_dir / "demo"

    @property
    def demo_builds_dir(self) -> Path:
        """Each demo fills a folder of its own here, so two demos never write into one."""
        return self.data_dir / "demos"


@lru_cache
def get_env() -> Env:
    names = {field.validation_alias for field in Env.model_fields.values()}
    # Validated from `environment()` alone: the settings' own sources (the environment, a `.env`) are not read.
    return Env.model_validate({k: v for k, v in environment().items() if v and k in names})


def rules_path(data_dir: Path) -> Path:
    """`Env.rules_path` of a data folder."""
    return data_dir / "rules" / "rules.yaml"
