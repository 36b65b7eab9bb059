"""Noise: gambling and lottery injections, ads, and pages that repeat their own body.

`strip_injections` removes injected lines from an otherwise genuine text (seed 000 ends with one);
`collapse_repeats` folds a body that repeats itself (seed 002 does); `detect` judges what is left.
"""

from __future__ import annotations

import re

from classifiers.types import Spam

GAMBLING = re.compile(
    r"(开什么码|六合彩|特码|香港马会|马会资料|澳门.{0,4}(彩|赌|葡京)|博彩|百家乐|时时彩|彩票.{0,4}(预测|计划|平台)"
    r"|真人.{0,2}娱乐|网上.{0,2}赌|棋牌.{0,4}(充值|提现)|一码.{0,2}中特|必中)"
)
ADS = re.compile(
    r"(加.{0,2}(微信|vx|VX|qq|QQ)|代开.{0,2}发票|刷单|兼职.{0,4}日结|免费领取|点击.{0,4}(领取|下载)"
    r"|贷款.{0,4}(秒批|无抵押)|办证|代孕|私家侦探)"
)
_LINE_SPLIT = re.compile(r"\n+")


def _spam_reason(line: str) -> str | None:
    if match := GAMBLING.search(line):
        return f"赌博/彩票信息「{match.group(0)}」"
    if match := ADS.search(line):
        return f"广告信息「{match.group(0)}」"
    return None


def strip_injections(text: str) -> tuple[str, list[str]]:
    """Drop short spam lines hidden inside a longer genuine text; return the text and the reasons.

    Only short lines are stripped, and only when more genuine text than spam remains, so a text that is
    spam through and through is left whole for `detect` to judge.
    """
    lines = _LINE_SPLIT.split(text)
    if len(lines) < 2:
        return text, []
    kept, stripped, reasons = [], [], []
    for line in lines:
        reason = _spam_reason(line)
        if reason and len(line.strip()) <= 60:
            stripped.append(line)
            reasons.append(f"已剔除插入的{reason}")
        else:
            kept.append(line)
    genuine = sum(len(line.strip()) for line in kept)
    if not stripped or genuine < sum(len(line.strip()) for line in stripped):
        return text, []
    return "\n".join(kept), reasons


def collapse_repeats(text: str) -> tuple[str, list[str]]:
    """A body printed twice in a row (a broken page template) is folded to one copy."""
    stripped = text.strip()
    n = len(stripped)
    if n < 40:
        return text, []
    head = stripped[:30]
    # The second copy starts with `head`, so no space precedes it and it is `n - start` long, while the
    # first is at most `start` long: only a start past (n - 20) / 2 can fold, and none where the first copy
    # is already longer than the rest. Trying every earlier match made a text that repeats one character
    # quadratic.
    start = stripped.find(head, max(len(head), (n - 20) // 2))
    while start > 0:
        first, second = stripped[:start].rstrip(), stripped[start:]
        if len(first) > len(second):
            break
        if first == second or (second.startswith(first) and len(second) - len(first) < 20):
            return first, ["正文重复出现两次，已合并"]
        start = stripped.find(head, start + 1)
    paragraphs = [p for p in _LINE_SPLIT.split(stripped) if p.strip()]
    half = len(paragraphs) // 2
    if half >= 2 and len(paragraphs) % 2 == 0 and paragraphs[:half] == paragraphs[half:]:
        return "\n".join(paragraphs[:half]), ["正文重复出现两次，已合并"]
    return text, []


_NOT_SPAM = Spam(False)


def detect(title: str | None, text: str) -> Spam:
    """Spam when the title is spam, or most of the text is."""
    reasons = []
    if title and (reason := _spam_reason(title)):
        reasons.append(f"标题含{reason}")
    # Neither pattern reaches across a line break, so a text they find nothing in has no spam line: most
    # posts, told so without splitting them into lines.
    if GAMBLING.search(text) or ADS.search(text):
        lines = [line for line in _LINE_SPLIT.split(text) if line.strip()]
        flagged = [r for line in lines if (r := _spam_reason(line))]
        if lines and len(flagged) * 2 >= len(lines):
            reasons.append(f"正文{len(flagged)}/{len(lines)}段为{flagged[0]}")
    return Spam(True, tuple(reasons)) if reasons else _NOT_SPAM
