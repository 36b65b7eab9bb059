"""The project's exceptions, caught at the edges (CLI, stage adapters) and turned into counted messages.

YuqingError
├── ConfigError(file, key, reason)
│   └── RuleSyntaxError(rule, position, reason)   (raised by classifiers.rules as RuleError)
├── SourceError(source, reason)
│   ├── SourceBlocked      login wall, captcha, 403/418/429
│   └── LayoutChanged      selectors that stopped matching
├── StoreError
│   └── StoreUnavailable   the node is down: spool and replay
└── DeliveryError
"""

from __future__ import annotations

from config.errors import ConfigError, YuqingError

__all__ = [
    "ConfigError",
    "DeliveryError",
    "LayoutChanged",
    "SourceBlocked",
    "SourceError",
    "StoreError",
    "StoreUnavailable",
    "YuqingError",
]


class SourceError(YuqingError):
    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class SourceBlocked(SourceError):
    pass


class LayoutChanged(SourceError):
    pass


class StoreError(YuqingError):
    pass


class StoreUnavailable(StoreError):
    pass


class DeliveryError(YuqingError):
    pass
