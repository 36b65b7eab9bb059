"""Errors raised while loading what an office edits. Lives in `config` so every layer above can use it."""

from __future__ import annotations


class YuqingError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(YuqingError):
    """A config file that cannot be used: names the file, the key and what is wrong, on one line."""

    def __init__(self, file: str, key: str, reason: str, kind: str = "") -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file = file
        self.key = key
        self.reason = reason
        # What sort of mistake it is (pydantic's error type, or `yaml`, `file`, `encoding`, `rule`), so a
        # message to people can say it in their words; "" when not known.
        self.kind = kind

    @property
    def path(self) -> str:
        """The file without the line number `file` may end with."""
        head, _, tail = self.file.rpartition(":")
        return head if head and tail.isdigit() else self.file

    @property
    def line(self) -> int | None:
        head, _, tail = self.file.rpartition(":")
        return int(tail) if head and tail.isdigit() else None
