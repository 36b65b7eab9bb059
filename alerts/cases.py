"""The case model of claim and response (seed 000 附件2 第六条～第九条): a case's states and the moves
between them, its deadlines and how they are counted. Pure: no database, no clock; alerts/workflow.py
acts on cases and alerts/repositories/cases.py stores them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from alerts.accounts import Refused
from alerts.calendar import Cadence
from classifiers.types import Level

SYSTEM = "系统"

# Seed 000 四(三): 重大突发事件 — first release at once (within 1 h) and a press conference within 24 h;
# other 政务舆情 — a response within 48 h.
FIRST_RELEASE_WITHIN = timedelta(hours=1)
PRESS_CONFERENCE_WITHIN = timedelta(hours=24)
RESPONSE_WITHIN = timedelta(hours=48)


class WorkflowError(Refused):
    """An action the workflow refuses: names the case and the rule."""


class State(StrEnum):
    NEW = "new"
    NOTIFIED = "notified"
    CLAIMED = "claimed"
    FIRST_RELEASE = "first_release"
    RESPONDED = "responded"
    CLOSED = "closed"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    EXTENSION_REQUESTED = "extension_requested"
    REOPENED = "reopened"
    FALSE_ALARM = "false_alarm"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.NEW: "新建",
    State.NOTIFIED: "已通知",
    State.CLAIMED: "已认领",
    State.FIRST_RELEASE: "已首次发布",
    State.RESPONDED: "已回应",
    State.CLOSED: "已办结",
    State.REASSIGNED: "已指定认领",
    State.ESCALATED: "逾期未认领",
    State.EXTENSION_REQUESTED: "延期待批",
    State.REOPENED: "重新打开",
    State.FALSE_ALARM: "误报",
}

_S = State
_MOVES: dict[State, frozenset[State]] = {
    _S.NEW: frozenset({_S.NOTIFIED, _S.CLAIMED, _S.ESCALATED, _S.REASSIGNED, _S.CLOSED}),
    _S.NOTIFIED: frozenset({_S.CLAIMED, _S.ESCALATED, _S.REASSIGNED, _S.CLOSED}),
    _S.ESCALATED: frozenset({_S.CLAIMED, _S.REASSIGNED, _S.CLOSED}),
    _S.REASSIGNED: frozenset({_S.CLAIMED, _S.ESCALATED, _S.REASSIGNED, _S.CLOSED}),
    _S.CLAIMED: frozenset({_S.FIRST_RELEASE, _S.RESPONDED, _S.EXTENSION_REQUESTED, _S.REASSIGNED, _S.CLOSED}),
    _S.FIRST_RELEASE: frozenset({_S.RESPONDED, _S.EXTENSION_REQUESTED, _S.REASSIGNED, _S.CLOSED}),
    # A decided request returns the case to where it was.
    _S.EXTENSION_REQUESTED: frozenset({_S.CLAIMED, _S.FIRST_RELEASE, _S.REOPENED, _S.CLOSED}),
    # Further releases after the response are recorded ("持续发布权威信息").
    _S.RESPONDED: frozenset({_S.RESPONDED, _S.REOPENED, _S.CLOSED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: frozenset(
        {_S.CLAIMED, _S.FIRST_RELEASE, _S.RESPONDED, _S.EXTENSION_REQUESTED, _S.REASSIGNED, _S.CLOSED}
    ),
    # 误报 is an outcome of its own; only a higher level raised for the event later opens it again.
    _S.FALSE_ALARM: frozenset({_S.REOPENED}),
}
# A supervisor may find any case a false alarm, whatever it has come to, closed ones included.
TRANSITIONS = {
    state: moves if state is _S.FALSE_ALARM else moves | {_S.FALSE_ALARM} for state, moves in _MOVES.items()
}

# What each action is called where people read it: refusals, the audit trail.
ACTION_LABELS = {
    "claim": "认领",
    "respond": "记录回应",
    "request_extension": "申请延期",
    "approve_extension": "审批延期",
    "deny_extension": "审批延期",
    "reassign": "指定认领",
    "close": "办结",
    "false_alarm": "标记误报",
    "reopen": "重新打开",
    "escalate": "逾期升级",
    "notify": "标记已送达",
}
# Every step of a case's history in words: the actions people take and what the system does itself.
HISTORY_LABELS = {**ACTION_LABELS, "open": "立案", "alert": "再次预警", "upgrade": "升级", "overdue": "逾期"}

UNCLAIMED = frozenset({State.NEW, State.NOTIFIED, State.ESCALATED, State.REASSIGNED})
WORKING = frozenset({State.CLAIMED, State.FIRST_RELEASE, State.REOPENED})
# Settled for now: answered, closed, or found a false alarm (the cases table shows them only when late).
ANSWERED = frozenset({State.RESPONDED, State.CLOSED, State.FALSE_ALARM})


class DeadlineKind(StrEnum):
    CLAIM = "认领"
    FIRST_RELEASE = "首次发布"
    PRESS_CONFERENCE = "新闻发布会"
    RESPONSE = "回应"

    @property
    def option(self) -> str:
        """The name in config (reminders) and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> DeadlineKind:
        """A kind as typed: its English name (first_release) or its Chinese one (首次发布)."""
        wanted = text.strip()
        for kind in cls:
            if wanted in (kind.value, kind.option):
                return kind
        raise ValueError(wanted)


RESPONSE_KINDS = (DeadlineKind.FIRST_RELEASE, DeadlineKind.PRESS_CONFERENCE, DeadlineKind.RESPONSE)


def short_id(case_id: str) -> str:
    """Eight hex digits that stand for a case wherever an id is typed or shown: event ids run to forty
    characters and would be cut off in a table. The same id always gives the same short id."""
    return hashlib.sha1(case_id.encode("utf-8")).hexdigest()[:8]


def check_move(state: State, to: State, action: str, ref: str) -> None:
    """Refuse a move the state machine does not allow; staying where it is always is."""
    if to is not state and to not in TRANSITIONS[state]:
        raise WorkflowError(
            f"{ref}（{state.label}）：{state.label}的案件不能{ACTION_LABELS.get(action, action)}"
        )


def response_deadlines(level: Level, start: datetime) -> dict[DeadlineKind, datetime]:
    """The seed's response deadlines for an alert of `level`, counted from `start`: a 重大突发事态 owes
    a first release and a press conference, anything else one response."""
    if level is Level.MAJOR_EMERGENCY:
        return {
            DeadlineKind.FIRST_RELEASE: start + FIRST_RELEASE_WITHIN,
            DeadlineKind.PRESS_CONFERENCE: start + PRESS_CONFERENCE_WITHIN,
        }
    return {DeadlineKind.RESPONSE: start + RESPONSE_WITHIN}


def claim_due(
    cadence: Cadence, notified_at: datetime, responses: Mapping[DeadlineKind, datetime]
) -> datetime:
    """The next claim patrol after notification, but no later than the first response deadline: a unit
    cannot release what it has not claimed (a 重大突发事态 at 22:30 is claimed by 23:30, not at 08:30)."""
    return min([cadence.claim_deadline(notified_at), *responses.values()])


def deadlines_for(level: Level, raised_at: datetime, cadence: Cadence) -> dict[DeadlineKind, datetime]:
    """Every deadline an alert of `level` raised at `raised_at` sets: the claim first, then the
    responses (what a new case gets, and what `yuqing route` shows)."""
    responses = response_deadlines(level, raised_at)
    return {DeadlineKind.CLAIM: claim_due(cadence, raised_at, responses), **responses}


def interactions(counts: Mapping[str, int]) -> int:
    """Reposts, comments and likes: what people do with a post. Reads are left out; they run to
    millions and would drown the rest."""
    return sum(int(value) for name, value in counts.items() if name != "reads")


def check_url(url: str) -> str:
    """Where a release was published: an http(s) address with a host, nothing a browser would run."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not host
        or len(text) > 2048
        or any(ch.isspace() or ord(ch) < 32 for ch in text)
    ):
        raise WorkflowError(
            f"发布地址「{url}」不是网址：须以 http:// 或 https:// 开头并带网站地址，"
            "如 https://www.qingfeng.gov.cn/xwfb/1.html"
        )
    return text


@dataclass(slots=True)
class Case:
    id: str
    alert_key: str
    post_id: str
    level: Level
    title: str
    url: str
    source: str
    counties: list[str]
    first: list[str]
    claim: list[str]
    opened_at: datetime
    state: State
    prev_state: State | None
    round: int
    round_started_at: datetime
    owner: str | None
    assigned: str | None
    updated_at: datetime
    watch_from: datetime | None
    # What a patrol last saw of the event: {"total": interactions, "media": outlets with negative coverage}.
    baseline: dict[str, Any] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    @property
    def ref(self) -> str:
        """How messages name the case: 案件 3fa2b9c1."""
        return f"案件 {self.short_id}"

    @property
    def expected(self) -> list[str]:
        """The units that may claim: the one 市委宣传部 and 市政府办 assigned, else those routing named."""
        if self.assigned:
            return [self.assigned]
        return list(dict.fromkeys([*self.claim, *self.first]))

    @property
    def answerable(self) -> list[str]:
        """Whom a response deadline is held against."""
        return [self.owner] if self.owner else (self.first or self.expected)

    def watching(self, at: datetime, watch_days: int) -> bool:
        """Answered, and still within the follow-up watch after its last response or closing."""
        return (
            self.state in ANSWERED
            and self.watch_from is not None
            and at <= self.watch_from + timedelta(days=watch_days)
        )


@dataclass(slots=True)
class Deadline:
    id: int
    case_id: str
    round: int
    kind: DeadlineKind
    due_at: datetime
    original_due_at: datetime
    status: str  # open, met, lapsed, cancelled
    units: list[str]
    met_at: datetime | None
    met_unit: str | None

    @property
    def in_time(self) -> bool:
        return self.met_at is not None and self.met_at <= self.due_at and self.status == "met"


@dataclass(slots=True)
class HistoryEntry:
    case_id: str
    at: datetime
    action: str
    from_state: State | None
    to_state: State
    actor: str
    unit: str | None
    note: str


@dataclass(slots=True)
class Lapse:
    case_id: str
    deadline_id: int
    kind: DeadlineKind
    due_at: datetime
    lapsed_at: datetime
    units: list[str]


@dataclass(slots=True)
class Extension:
    id: int
    case_id: str
    deadline_id: int
    unit: str
    requested_by: str
    requested_at: datetime
    until: datetime
    reason: str
    status: str  # pending, approved, denied, withdrawn
    decided_by: str | None
    decided_at: datetime | None
