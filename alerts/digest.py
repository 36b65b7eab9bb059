"""The digest: low-level alerts gathered into one message per unit at each checkpoint instead of one
message each. Pure rendering; the dispatcher decides what goes in and delivers it like any alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerts.models import SHANGHAI, Alert

# A digest that would run past this is cut; every alert stays in the outbox and `yuqing search`.
MAX_ITEMS = 50


def digest_subject(recipient: str, alerts: Sequence[Alert], now: datetime) -> str:
    return f"【舆情摘要】{now.astimezone(SHANGHAI):%m-%d %H:%M} {recipient}：{len(alerts)} 条"


def render_digest(recipient: str, alerts: Sequence[Alert], now: datetime) -> str:
    lines = [digest_subject(recipient, alerts, now), "以下信息级别较低，汇总报送，请结合职责关注："]
    for number, alert in enumerate(alerts[:MAX_ITEMS], start=1):
        where = f"（{'、'.join(alert.counties)}）" if alert.counties else ""
        found = f"{alert.created_at.astimezone(SHANGHAI):%m-%d %H:%M}"
        lines.append(
            f"{number}. 【{alert.level.value}】{alert.title}{where} {found} {alert.source} {alert.url}"
        )
    if len(alerts) > MAX_ITEMS:
        lines.append(f"另有 {len(alerts) - MAX_ITEMS} 条，见 yuqing search")
    return "\n".join(lines)
