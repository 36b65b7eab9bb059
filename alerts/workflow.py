"""Claim and response (seed 000 附件2 第六条～第九条): one case per event, its states and who moved it
when, its deadlines as absolute times, and the sweep that reminds, records lapses and escalates.

Cases live in their own tables in the outbox's SQLite file; notices (reminders, escalations) go out as
alerts through `Outbox.enqueue`, so they are delivered like any other alert, exactly once per key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import RowMapping

from alerts.accounts import Account, Accounts, Refused, Role
from alerts.calendar import SHANGHAI, Cadence
from alerts.models import Alert, short_id
from alerts.noise import is_event_alert
from alerts.outbox import Outbox
from alerts.repositories.accounts import AccountRepository
from alerts.repositories.cases import CaseRepository
from alerts.silences import judge as judge_silences
from classifiers.types import Level
from config.models import OfficeConfig, unit_names

logger = logging.getLogger(__name__)

SYSTEM = "系统"
# Keys of the notices this module raises; `sync` never opens a case for them.
NOTICE_PREFIX = "工作流:"


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

DELIVERED = frozenset({"sent", "digested"})
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


@dataclass(slots=True)
class SweepReport:
    opened: int = 0
    notified: int = 0
    escalated: int = 0
    overdue: int = 0
    reminders: int = 0
    notices: list[str] = field(default_factory=list)


def _ts(moment: datetime) -> str:
    # UTC with a fixed shape, so the text sorts and compares in time order inside SQLite.
    if moment.tzinfo is None:
        raise ValueError(f"a time without a time zone: {moment}")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(SHANGHAI) if text else None


def _duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return (f" {hours} 小时" if hours else "") + (f" {minutes} 分钟" if minutes or not hours else "")


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def interactions(counts: Mapping[str, int]) -> int:
    """Reposts, comments and likes: what people do with a post. Reads are left out; they run to
    millions and would drown the rest."""
    return sum(int(value) for name, value in counts.items() if name != "reads")


def claim_due(
    cadence: Cadence, notified_at: datetime, responses: Mapping[DeadlineKind, datetime]
) -> datetime:
    """The next claim patrol after notification, but no later than the first response deadline: a unit
    cannot release what it has not claimed (a 重大突发事态 at 22:30 is claimed by 23:30, not at 08:30)."""
    return min([cadence.claim_deadline(notified_at), *responses.values()])


def deadlines_for(alert: Alert, cadence: Cadence) -> dict[DeadlineKind, datetime]:
    """Every deadline an alert sets, counted from when it was raised: what `yuqing route` shows."""
    responses = {DeadlineKind(name): due for name, due in alert.deadlines().items()}
    return {DeadlineKind.CLAIM: claim_due(cadence, alert.created_at, responses), **responses}


class Workflow:
    """The cases of one outbox file. `now` is the clock; every action takes its time from it."""

    def __init__(self, outbox: Outbox, office: OfficeConfig, now: Callable[[], datetime]) -> None:
        self.outbox = outbox
        self.office = office
        self.now = now
        self.cadence = Cadence.from_schedule(office.schedule)
        self.city = office.units.city_units
        # Read-only with the outbox (a command that only shows, or a read-only data folder): nothing is synced.
        self.read_only = outbox.read_only
        # On the outbox's connection, so a case, its notice and its audit row can share one transaction.
        self.records = CaseRepository(outbox.database)

    def close(self) -> None:
        """Nothing to close: the connection is the outbox's, closed with it (the cases stay; see
        `close_case` to close a case)."""

    @contextmanager
    def _tx(self) -> Iterator[CaseRepository]:
        # The write lock is taken up front, so two sweepers (serve and a CLI) never interleave.
        with self.outbox.database.transaction():
            yield self.records

    # -- reading ------------------------------------------------------------------------------------

    def _case_from_row(self, row: RowMapping) -> Case:
        return Case(
            id=row["id"],
            alert_key=row["alert_key"],
            post_id=row["post_id"],
            level=Level(row["level"]),
            title=row["title"],
            url=row["url"],
            source=row["source"],
            counties=json.loads(row["counties"]),
            first=json.loads(row["first_units"]),
            claim=json.loads(row["claim_units"]),
            opened_at=_dt(row["opened_at"]),
            state=State(row["state"]),
            prev_state=State(row["prev_state"]) if row["prev_state"] else None,
            round=row["round"],
            round_started_at=_dt(row["round_started_at"]),
            owner=row["owner"],
            assigned=row["assigned"],
            updated_at=_dt(row["updated_at"]),
            watch_from=_dt(row["watch_from"]),
            baseline=json.loads(row["baseline"]),
        )

    def get(self, case_id: str) -> Case | None:
        row = self.records.get(case_id)
        return self._case_from_row(row) if row else None

    def find(self, key: str) -> Case:
        """A case by its short id (as the tables show it), its event id, any of its alert keys, or a
        fragment of its event id naming only one case."""
        key = key.strip()
        if not key:
            raise WorkflowError("未指明案件：请给出案件编号（见 yuqing cases）")
        case = self.get(key)
        if case:
            return case
        owner = self.records.case_of_alert(key)
        if owner:
            return self.get(owner)
        ids = self.records.ids()
        short = [i for i in ids if short_id(i) == key.lower()]
        matches = short or [i for i in ids if key in i]
        if len(matches) == 1:
            return self.get(matches[0])
        if not matches:
            raise WorkflowError(f"没有编号为 {key} 的案件（见 yuqing cases --all）")
        named = "、".join(f"{short_id(i)}（{i}）" for i in matches[:5])
        raise WorkflowError(f"{key} 对应 {len(matches)} 个案件：{named}；请给出完整编号")

    @property
    def accounts(self) -> Accounts:
        """The accounts that act on these cases, on this connection and inside its transactions."""
        return Accounts(
            AccountRepository(self.outbox.database),
            self.outbox.database.transaction,
            self.now,
            units=lambda: unit_names(self.office.units, self.office.territory),
            supervisors=lambda: [self.city.propaganda, self.city.gov_office],
        )

    def responsible(self, case: Case) -> list[str]:
        """Every unit that answers for the case: the first, coordinating and claiming units of each of
        its alerts (a rise in level may add some), the unit a supervisor assigned it to, and its owner."""
        units = [*case.first, *case.claim]
        for _case, key in self.records.alert_keys(case.id):
            alert = self.outbox.alert(key)
            if alert is not None:
                units.extend([*alert.first, *alert.coordinate, *alert.claim])
        units.extend(u for u in (case.assigned, case.owner) if u)
        return list(dict.fromkeys(units))

    def cases(self, *, opened_from: datetime | None = None, opened_to: datetime | None = None) -> list[Case]:
        rows = self.records.opened(
            _ts(opened_from) if opened_from else "", _ts(opened_to) if opened_to else "9999"
        )
        return [self._case_from_row(r) for r in rows]

    def deadlines(self, case_id: str | None = None, *, status: str | None = None) -> list[Deadline]:
        rows = self.records.deadlines(case_id, status)
        return [
            Deadline(
                id=r["id"],
                case_id=r["case_id"],
                round=r["round"],
                kind=DeadlineKind(r["kind"]),
                due_at=_dt(r["due_at"]),
                original_due_at=_dt(r["original_due_at"]),
                status=r["status"],
                units=json.loads(r["units"]),
                met_at=_dt(r["met_at"]),
                met_unit=r["met_unit"],
            )
            for r in rows
        ]

    def history(self, case_id: str) -> list[HistoryEntry]:
        rows = self.records.history(case_id)
        return [
            HistoryEntry(
                case_id=r["case_id"],
                at=_dt(r["at"]),
                action=r["action"],
                from_state=State(r["from_state"]) if r["from_state"] else None,
                to_state=State(r["to_state"]),
                actor=r["actor"],
                unit=r["unit"],
                note=r["note"],
            )
            for r in rows
        ]

    def lapses(self, case_id: str | None = None) -> list[Lapse]:
        rows = self.records.lapses(case_id)
        return [
            Lapse(
                case_id=r["case_id"],
                deadline_id=r["deadline_id"],
                kind=DeadlineKind(r["kind"]),
                due_at=_dt(r["due_at"]),
                lapsed_at=_dt(r["lapsed_at"]),
                units=json.loads(r["units"]),
            )
            for r in rows
        ]

    def extensions(self, case_id: str | None = None) -> list[Extension]:
        rows = self.records.extensions(case_id)
        return [
            Extension(
                id=r["id"],
                case_id=r["case_id"],
                deadline_id=r["deadline_id"],
                unit=r["unit"],
                requested_by=r["requested_by"],
                requested_at=_dt(r["requested_at"]),
                until=_dt(r["until"]),
                reason=r["reason"],
                status=r["status"],
                decided_by=r["decided_by"],
                decided_at=_dt(r["decided_at"]),
            )
            for r in rows
        ]

    # -- writing helpers ----------------------------------------------------------------------------

    def _move(
        self,
        db: CaseRepository,
        case: Case,
        to: State,
        *,
        action: str,
        actor: str,
        unit: str | None = None,
        note: str = "",
        at: datetime,
        **fields: Any,
    ) -> None:
        """One transition: checked against TRANSITIONS, written with who, when and why."""
        if to is not case.state and to not in TRANSITIONS[case.state]:
            raise WorkflowError(
                f"{case.ref}（{case.state.label}）：{case.state.label}的案件不能{ACTION_LABELS.get(action, action)}"
            )
        sets = {"state": to.value, "updated_at": _ts(at), **fields}
        db.set_case(case.id, **sets)
        db.add_history(case.id, _ts(at), action, case.state.value, to.value, actor, unit, note)
        logger.info(
            "case %s: %s → %s by %s %s %s", case.id, case.state.value, to.value, actor, unit or "", note
        )
        case.state = to

    def _add_deadline(
        self,
        db: CaseRepository,
        case_id: str,
        round_: int,
        kind: DeadlineKind,
        due: datetime,
        units: list[str],
    ) -> None:
        db.add_deadline(case_id, round_, kind.value, _ts(due), json.dumps(units, ensure_ascii=False))

    def _meet(self, db: CaseRepository, deadline: Deadline, now: datetime, unit: str) -> bool:
        """Record that a deadline was met now; True when in time. Met late, it is a lapse on record even
        if no sweep ran between the deadline and now."""
        in_time = deadline.status == "open" and now <= deadline.due_at
        if not in_time:
            db.add_lapse(
                deadline.id,
                _ts(deadline.due_at),
                deadline.case_id,
                deadline.kind.value,
                _ts(now),
                json.dumps(deadline.units, ensure_ascii=False),
            )
        db.set_deadline(deadline.id, status="met" if in_time else "lapsed", met_at=_ts(now), met_unit=unit)
        return in_time

    def _open(self, case_id: str, kinds: Iterable[DeadlineKind] | None = None) -> list[Deadline]:
        wanted = set(kinds) if kinds is not None else None
        return [d for d in self.deadlines(case_id, status="open") if wanted is None or d.kind in wanted]

    def _outstanding(
        self, case_id: str, kinds: Iterable[DeadlineKind], round_: int | None = None
    ) -> list[Deadline]:
        """Deadlines not yet met, whether still open or already lapsed (of one round, if given)."""
        wanted = set(kinds)
        return [
            d
            for d in self.deadlines(case_id)
            if d.kind in wanted
            and d.status in ("open", "lapsed")
            and d.met_at is None
            and (round_ is None or d.round == round_)
        ]

    def _response_deadlines(self, case: Case, level: Level, start: datetime) -> dict[DeadlineKind, datetime]:
        """The seed's response deadlines, as alerts/models.py states them, counted from `start`."""
        stub = self._notice(case, key="", title="", summary="", created_at=start, level=level)
        return {DeadlineKind(name): due for name, due in stub.deadlines().items()}

    def _claim_due(self, notified_at: datetime, responses: Mapping[DeadlineKind, datetime]) -> datetime:
        return claim_due(self.cadence, notified_at, responses)

    def _notice(
        self,
        case: Case,
        *,
        key: str,
        title: str,
        summary: str,
        created_at: datetime,
        level: Level | None = None,
        first: list[str] | None = None,
        claim: list[str] | None = None,
        coordinate: list[str] | None = None,
        inform: list[str] | None = None,
        reasons: list[str] | None = None,
    ) -> Alert:
        # created_at is the start of the case's round, so the deadlines the message lists are the round's.
        return Alert(
            key=key,
            post_id=case.post_id,
            event_id=case.id,
            level=level or case.level,
            title=title,
            url=case.url,
            source=case.source,
            summary=summary,
            created_at=created_at,
            reasons=reasons or [],
            first=first if first is not None else list(case.first),
            coordinate=coordinate or [],
            claim=claim or [],
            inform=inform or [],
            counties=list(case.counties),
            kind="workflow",
        )

    def _raise_notice(self, alert: Alert, kind: str, case_id: str, report: SweepReport | None) -> None:
        # Enqueue first, record second: a crash in between re-enqueues (a no-op) on the next sweep.
        new = self.outbox.enqueue(alert)
        self.records.add_notice(alert.key, case_id, kind, _ts(self.now()))
        if new and report is not None:
            report.notices.append(alert.key)

    # -- opening cases from alerts ------------------------------------------------------------------

    def sync(self) -> int:
        """Open or update a case for every pipeline alert not seen yet; the number of cases opened.

        An alert a silence holds back is nobody's yet: it opens no case and sets no deadline until the
        silence ends and it is sent (the sender then tells it as raised at that moment)."""
        if self.read_only:
            return 0
        known = {key for _case, key in self.records.alert_keys()}
        untold = self.outbox.untold()
        planned = self.outbox.planned_keys()
        silences = self.outbox.silences()
        now = self.now()
        opened = 0
        for alert in self.outbox.alerts():
            if alert.key in known or alert.key in untold or not is_event_alert(alert):
                continue
            if alert.key not in planned:
                # Not yet seen by the sender: the same judgement it will make, so no case opens first.
                hold = judge_silences(alert, silences, self.office.alerts.silences, now)
                if hold is not None and hold.held:
                    continue
            opened += self._take(alert)
        self._announce_reopened()
        return opened

    def untold_cases(self) -> set[str]:
        """Cases whose every alert a silence kept from everyone (opened so by an earlier version): no
        unit was told, so no deadline of theirs runs and none is counted against anyone."""
        untold = self.outbox.untold()
        if not untold:
            return set()
        keys: dict[str, set[str]] = {}
        for case_id, key in self.records.alert_keys():
            keys.setdefault(case_id, set()).add(key)
        return {case_id for case_id, alerts in keys.items() if alerts <= untold}

    def _take(self, alert: Alert) -> int:
        with self._tx() as db:
            if db.case_of_alert(alert.key) is not None:
                return 0  # another sweeper took it
            db.add_alert(alert.key, alert.event_id, alert.level.value, _ts(alert.created_at))
            case = self.get(alert.event_id)
            if case is None:
                self._open_case(db, alert)
                return 1
            if case.state in ANSWERED:
                # A higher level, or the outbox re-telling the event because it keeps growing (`…#n`),
                # is the resurgence seed 003 describes: 回应—演化—新回应—再演化.
                higher = alert.level.rank > case.level.rank
                if higher or ("#" in alert.key and self._watching(case, alert.created_at)):
                    why = alert.reasons[0] if alert.reasons else ""
                    reason = (
                        f"级别升至{alert.level.value}（预警 {alert.key}）"
                        if higher
                        else f"事件持续发酵（预警 {alert.key}）" + (f"：{why}" if why else "")
                    )
                    level = alert.level if higher else case.level
                    self._reopen(db, case, reason, at=alert.created_at, level=level)
                    db.set_case(case.id, alert_key=alert.key)
                    return 0
            else:
                self._note_media(db, case, alert.source)
                if alert.level.rank > case.level.rank:
                    self._upgrade(db, case, alert)
                    return 0
            db.add_history(
                case.id,
                _ts(alert.created_at),
                "alert",
                case.state.value,
                case.state.value,
                SYSTEM,
                note=f"同一事件新预警 {alert.key}",
            )
        if case.state in ANSWERED:
            self.observe(case.id, None, [alert.source])
        return 0

    def _note_media(self, db: CaseRepository, case: Case, source: str) -> None:
        media = list(case.baseline.get("media", []))
        if source and source not in media:
            baseline = {**case.baseline, "media": [*media, source]}
            db.set_case(case.id, baseline=json.dumps(baseline, ensure_ascii=False))

    def _open_case(self, db: CaseRepository, alert: Alert) -> None:
        at = alert.created_at
        db.open_case(
            id=alert.event_id,
            alert_key=alert.key,
            post_id=alert.post_id,
            level=alert.level.value,
            title=alert.title,
            url=alert.url,
            source=alert.source,
            counties=json.dumps(alert.counties, ensure_ascii=False),
            first_units=json.dumps(alert.first, ensure_ascii=False),
            claim_units=json.dumps(alert.claim, ensure_ascii=False),
            opened_at=_ts(at),
            state=State.NEW.value,
            round=0,
            round_started_at=_ts(at),
            updated_at=_ts(at),
            # The outlet that raised it is coverage already known, not "new" coverage later.
            baseline=json.dumps({"media": [alert.source]}, ensure_ascii=False),
        )
        case = self.get(alert.event_id)
        dues = deadlines_for(alert, self.cadence)
        claim_at = dues.pop(DeadlineKind.CLAIM)
        self._add_deadline(db, case.id, 0, DeadlineKind.CLAIM, claim_at, case.expected)
        for kind, due in dues.items():
            self._add_deadline(db, case.id, 0, kind, due, case.answerable)
        db.add_history(
            case.id,
            _ts(at),
            "open",
            None,
            State.NEW.value,
            SYSTEM,
            note=f"{alert.level.value}预警 {alert.key}；认领时限 {_local(claim_at)}",
        )

    def _upgrade(self, db: CaseRepository, case: Case, alert: Alert) -> None:
        """A higher level for an open case: its response deadlines become the new level's."""
        for deadline in self._open(case.id, RESPONSE_KINDS):
            db.set_deadline(deadline.id, status="cancelled")
        responses = {DeadlineKind(name): due for name, due in alert.deadlines().items()}
        for kind, due in responses.items():
            self._add_deadline(db, case.id, case.round, kind, due, case.answerable)
        for claim in self._open(case.id, [DeadlineKind.CLAIM]):
            earliest = min(responses.values())
            if earliest < claim.due_at:
                db.set_deadline(claim.id, due_at=_ts(earliest))
        note = f"级别由{case.level.value}升至{alert.level.value}（预警 {alert.key}）"
        db.set_case(case.id, level=alert.level.value, alert_key=alert.key, updated_at=_ts(alert.created_at))
        db.add_history(
            case.id, _ts(alert.created_at), "upgrade", case.state.value, case.state.value, SYSTEM, note=note
        )

    def _reopen(
        self, db: CaseRepository, case: Case, reason: str, *, at: datetime, level: Level | None = None
    ) -> None:
        level = level or case.level
        round_ = case.round + 1
        for deadline in self._open(case.id):
            db.set_deadline(deadline.id, status="cancelled")
        responses = self._response_deadlines(case, level, at)
        if case.owner is None:
            self._add_deadline(
                db, case.id, round_, DeadlineKind.CLAIM, self._claim_due(at, responses), case.expected
            )
        for kind, due in responses.items():
            self._add_deadline(db, case.id, round_, kind, due, case.answerable)
        self._move(
            db,
            case,
            State.REOPENED,
            action="reopen",
            actor=SYSTEM,
            note=reason,
            at=at,
            round=round_,
            round_started_at=_ts(at),
            level=level.value,
            prev_state=None,
        )
        case.round, case.round_started_at, case.level = round_, at, level

    def _announce_reopened(self, report: SweepReport | None = None) -> None:
        """Tell the unit about every reopened case not yet announced. Run after the reopening commits,
        and by every sweep, so a crash between the two still announces it once."""
        for case in self._cases_in(State.REOPENED):
            key = f"{NOTICE_PREFIX}{case.id}:{case.round}:重新打开"
            if self.records.notice_exists(key):
                continue
            reason = next((h.note for h in reversed(self.history(case.id)) if h.action == "reopen"), "")
            dues = "；".join(
                f"{d.kind.value}时限 {_local(d.due_at)}" for d in self._open(case.id) if d.round == case.round
            )
            notice = self._notice(
                case,
                key=key,
                title=f"【舆情反弹，重新打开】{case.title}",
                summary=f"回应后舆情再次发酵：{reason}。请再次回应：{dues}。",
                created_at=case.round_started_at,
                first=case.answerable,
                coordinate=[self.city.propaganda, self.city.gov_office],
                inform=list(self.city.duty),
                reasons=[reason],
            )
            self._raise_notice(notice, "reopen", case.id, report)

    # -- the sweep ----------------------------------------------------------------------------------

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """Everything time does to cases, once: open cases for new alerts, mark delivered ones notified,
        remind before deadlines, record lapses, escalate unclaimed cases. Safe to run any number of times
        and from several processes; a run after a restart catches up on what fell due meanwhile."""
        now = now or self.now()
        report = SweepReport()
        report.opened = self.sync()
        self._announce_reopened(report)
        report.notified = self._mark_notified(now)
        untold = self.untold_cases()
        for deadline in self.deadlines(status="open"):
            if deadline.case_id in untold:
                continue
            if deadline.due_at <= now:
                self._lapse(deadline, now, report)
            else:
                self._remind(deadline, now, report)
        return report

    def _mark_notified(self, now: datetime) -> int:
        fresh = self._cases_in(State.NEW)
        if not fresh:
            return 0
        marked = 0
        for case in fresh:
            # Told once any recipient has it (or a digest carries it); failed deliveries are retried by
            # the dispatcher and do not move the claim deadline, which runs from the alert.
            statuses = {d.status for d in self.outbox.deliveries(case.alert_key)}
            if not statuses & DELIVERED:
                continue
            with self._tx() as db:
                current = self.get(case.id)
                if current.state is not State.NEW:
                    continue
                self._move(
                    db, current, State.NOTIFIED, action="notify", actor=SYSTEM, note="预警已送达", at=now
                )
                marked += 1
        return marked

    def _cases_in(self, *states: State) -> list[Case]:
        rows = self.records.in_states(s.value for s in states)
        return [self._case_from_row(r) for r in rows]

    def _lapse(self, deadline: Deadline, now: datetime, report: SweepReport) -> None:
        case = self.get(deadline.case_id)
        units = deadline.units
        if deadline.kind is DeadlineKind.CLAIM:
            notice = self._notice(
                case,
                key=f"{NOTICE_PREFIX}{case.id}:{deadline.round}:认领逾期:{deadline.id}",
                title=f"【逾期未认领，请指定认领】{case.title}",
                summary=(
                    f"认领时限 {_local(deadline.due_at)} 已过，{'、'.join(units)}未认领。"
                    f"请{self.city.propaganda}会同{self.city.gov_office}指定认领；逾期已记录在案、纳入考核。"
                ),
                created_at=case.round_started_at,
                claim=[self.city.propaganda, self.city.gov_office],
                inform=[*self.city.duty, *units],
                reasons=[
                    "附件2 第六条：逾期未认领的，由市委宣传部门会同市政府办指定认领并记录在案、纳入考核"
                ],
            )
        else:
            notice = self._notice(
                case,
                key=f"{NOTICE_PREFIX}{case.id}:{deadline.round}:{deadline.kind.value}逾期:{deadline.id}",
                title=f"【{deadline.kind.value}逾期】{case.title}",
                summary=(
                    f"{deadline.kind.value}时限 {_local(deadline.due_at)} 已过，{'、'.join(units)}尚未"
                    f"{deadline.kind.value}；逾期已记录在案。"
                ),
                created_at=case.round_started_at,
                first=units,
                coordinate=[self.city.propaganda, self.city.gov_office],
                inform=list(self.city.duty),
            )
        kind = "escalation" if deadline.kind is DeadlineKind.CLAIM else "overdue"
        self._raise_notice(notice, kind, case.id, report)
        with self._tx() as db:
            if not db.lapse_if_open(deadline.id, _ts(deadline.due_at)):
                return  # another sweeper recorded it, or the unit acted in the meantime
            db.add_lapse(
                deadline.id,
                _ts(deadline.due_at),
                case.id,
                deadline.kind.value,
                _ts(now),
                json.dumps(units, ensure_ascii=False),
            )
            case = self.get(case.id)
            if deadline.kind is DeadlineKind.CLAIM and case.state in UNCLAIMED:
                self._move(
                    db,
                    case,
                    State.ESCALATED,
                    action="escalate",
                    actor=SYSTEM,
                    unit=self.city.propaganda,
                    note=(
                        f"认领时限 {_local(deadline.due_at)} 已过，{'、'.join(units)}未认领；"
                        f"转{self.city.propaganda}会同{self.city.gov_office}指定认领"
                    ),
                    at=now,
                )
                report.escalated += 1
            else:
                db.add_history(
                    case.id,
                    _ts(now),
                    "overdue",
                    case.state.value,
                    case.state.value,
                    SYSTEM,
                    note=f"{deadline.kind.value}时限 {_local(deadline.due_at)} 已过，{'、'.join(units)}逾期",
                )
                report.overdue += 1

    def _remind(self, deadline: Deadline, now: datetime, report: SweepReport) -> None:
        leads = getattr(self.office.schedule.reminders, deadline.kind.option)
        reached = [lead for lead in leads if now >= deadline.due_at - timedelta(minutes=lead)]
        if not reached:
            return
        # After downtime several reminders may be due at once; only the most urgent is worth sending.
        lead = min(reached)
        case = self.get(deadline.case_id)
        # The due time is part of the key: an approved extension gets reminders of its own.
        due = f"{deadline.due_at.astimezone(SHANGHAI):%Y%m%d%H%M}"
        notice = self._notice(
            case,
            key=f"{NOTICE_PREFIX}{case.id}:{deadline.round}:{deadline.kind.value}提醒:{deadline.id}:{due}:{lead}",
            title=f"【{deadline.kind.value}提醒】{case.title}",
            summary=f"请于 {_local(deadline.due_at)} 前{deadline.kind.value}（还有{_duration(deadline.due_at - now)}）。",
            created_at=case.round_started_at,
            first=list(case.first) if deadline.kind is DeadlineKind.CLAIM else deadline.units,
            claim=deadline.units if deadline.kind is DeadlineKind.CLAIM else [],
        )
        before = len(report.notices)
        self._raise_notice(notice, "reminder", case.id, report)
        report.reminders += len(report.notices) - before

    # -- what people do -----------------------------------------------------------------------------
    #
    # Each action is taken by an account, checked in the transaction that writes it: the account (it
    # exists, is enabled, has a role that may do this), the case (the state machine, the units that
    # answer for it) and the office's files (units that exist, the longest extension). What is done goes
    # into the case's history and the audit trail at once; what is refused goes into the audit trail.

    def _account(self, actor: str | None, action: str, *roles: Role) -> Account:
        account = self.accounts.acting(actor)
        if account.role not in roles:
            allowed = "或".join(f"{r.label}账号" for r in roles)
            raise WorkflowError(
                f"{account.describe()}不能{ACTION_LABELS[action]}：{ACTION_LABELS[action]}须由{allowed}操作"
            )
        return account

    def _supervisors(self) -> str:
        return f"{self.city.propaganda}或{self.city.gov_office}"

    def _audit(self, account: Account, action: str, case: Case, note: str) -> None:
        self.accounts.record(account, action, case.id, detail=f"{case.ref}：{note}")

    def claim(self, key: str, *, actor: str | None) -> Case:
        """认领: a unit the case was put to takes it, as the unit of the account acting."""
        self.sync()
        with self.accounts.on_record(actor, "claim", key), self._tx() as db:
            account = self._account(actor, "claim", Role.UNIT, Role.SUPERVISOR)
            case = self.find(key)
            unit = account.unit
            if case.state not in UNCLAIMED and not (case.state is State.REOPENED and case.owner is None):
                owner = f"（{case.owner}）" if case.owner else ""
                raise WorkflowError(
                    f"{case.ref}已是{case.state.label}{owner}，不能再认领：一个案件只由一个单位认领"
                )
            if unit not in case.expected:
                raise WorkflowError(
                    f"{case.ref}：{account.describe()}不能认领：只有本案的认领单位可以认领"
                    f"（{'、'.join(case.expected)}）；其他单位须由{self._supervisors()}指定认领"
                )
            now = self.now()
            late = []
            for deadline in self._outstanding(case.id, [DeadlineKind.CLAIM]):
                if not self._meet(db, deadline, now, unit):
                    late.append(_local(deadline.due_at))
            for deadline in self._open(case.id, RESPONSE_KINDS):
                db.set_deadline(deadline.id, units=json.dumps([unit], ensure_ascii=False))
            note = f"逾期认领（时限 {'、'.join(late)}）" if late else "按时认领"
            self._move(
                db,
                case,
                State.CLAIMED,
                action="claim",
                actor=account.name,
                unit=unit,
                note=note,
                at=now,
                owner=unit,
            )
            self._audit(account, "claim", case, note)
        return self.get(case.id)

    def respond(self, key: str, *, kind: DeadlineKind, actor: str | None, url: str) -> Case:
        """回应: a unit answering for the case (or a supervisor) records a release and where it is."""
        self.sync()
        with self.accounts.on_record(actor, "respond", key), self._tx() as db:
            account = self._account(actor, "respond", Role.UNIT, Role.SUPERVISOR)
            if kind is DeadlineKind.CLAIM:
                raise WorkflowError("认领用 yuqing claim，不是回应的一种")
            url = check_url(url)
            case = self.find(key)
            unit = account.unit
            if account.role is Role.UNIT and unit not in self.responsible(case):
                raise WorkflowError(
                    f"{case.ref}：{account.describe()}不是本案的责任单位，不能记录回应：只有本案的责任单位"
                    f"（{'、'.join(self.responsible(case))}）或督办可以操作"
                )
            if case.owner is None:
                raise WorkflowError(f"{case.ref}尚未认领：先认领，再记录回应")
            now = self.now()
            round_kinds = {
                d.kind for d in self.deadlines(case.id) if d.round == case.round and d.status != "cancelled"
            }
            if kind not in round_kinds:
                wanted = "、".join(k.value for k in RESPONSE_KINDS if k in round_kinds)
                raise WorkflowError(f"{case.ref}：{case.level.value}的回应方式是{wanted}，不是{kind.value}")
            # A press conference is also a release: it meets an outstanding first-release deadline.
            meets = [kind, DeadlineKind.FIRST_RELEASE] if kind is DeadlineKind.PRESS_CONFERENCE else [kind]
            met_notes = []
            for deadline in self._outstanding(case.id, meets, case.round):
                in_time = self._meet(db, deadline, now, unit)
                met_notes.append(
                    f"{deadline.kind.value}{'按时' if in_time else '逾期'}（时限 {_local(deadline.due_at)}）"
                )
            remaining = self._outstanding(case.id, RESPONSE_KINDS, case.round)
            note = f"{kind.value} {url}" + (f"；{'，'.join(met_notes)}" if met_notes else "；持续发布")
            if case.state is State.EXTENSION_REQUESTED:
                self._withdraw_extensions(db, case.id, now)
                case.state = case.prev_state or State.CLAIMED
            moved = {"watch_from": _ts(now)} if not remaining else {}
            to = State.RESPONDED if not remaining else State.FIRST_RELEASE
            if remaining and case.state is State.FIRST_RELEASE:
                to = case.state
            self._move(
                db, case, to, action="respond", actor=account.name, unit=unit, note=note, at=now, **moved
            )
            self._audit(account, "respond", case, note)
        return self.get(case.id)

    def request_extension(self, key: str, *, until: datetime, reason: str, actor: str | None) -> Case:
        """申请延期: the unit that claimed the case asks for more time; it applies once a supervisor
        approves, and never beyond `max_extension_hours` (schedule.yaml) after the original deadline."""
        self.sync()
        with self.accounts.on_record(actor, "request_extension", key), self._tx() as db:
            account = self._account(actor, "request_extension", Role.UNIT, Role.SUPERVISOR)
            case = self.find(key)
            if case.owner is None or account.unit != case.owner:
                owner = case.owner or "（尚无单位认领）"
                raise WorkflowError(
                    f"{case.ref}：{account.describe()}不能申请延期：只有认领本案的单位可以申请，本案认领单位为{owner}"
                )
            if case.state not in WORKING:
                raise WorkflowError(
                    f"{case.ref}（{case.state.label}）不能申请延期：只有办理中的案件可以申请延期"
                )
            if not reason.strip():
                raise WorkflowError(f"{case.ref}：申请延期须写明理由")
            open_ = self._outstanding(case.id, RESPONSE_KINDS, case.round)
            if not open_:
                raise WorkflowError(f"{case.ref}：没有尚未完成的回应时限，无需延期")
            target = min(open_, key=lambda d: d.due_at)
            now = self.now()
            if until <= target.due_at:
                raise WorkflowError(
                    f"{case.ref}：延期至 {_local(until)} 不晚于现在的{target.kind.value}时限 {_local(target.due_at)}"
                )
            if until <= now:
                raise WorkflowError(f"{case.ref}：延期至 {_local(until)} 已经过去")
            hours = self.office.schedule.max_extension_hours
            latest = target.original_due_at + timedelta(hours=hours)
            if until > latest:
                raise WorkflowError(
                    f"{case.ref}：延期至 {_local(until)} 超过上限：{target.kind.value}最多比原时限"
                    f" {_local(target.original_due_at)} 延后 {hours} 小时，即不晚于 {_local(latest)}"
                    "（schedule.yaml 的 max_extension_hours）"
                )
            db.add_extension(
                case_id=case.id,
                deadline_id=target.id,
                unit=account.unit,
                requested_by=account.name,
                requested_at=_ts(now),
                until=_ts(until),
                reason=reason,
            )
            note = f"{target.kind.value}时限 {_local(target.due_at)} 申请延至 {_local(until)}：{reason}"
            self._move(
                db,
                case,
                State.EXTENSION_REQUESTED,
                action="request_extension",
                actor=account.name,
                unit=account.unit,
                note=note,
                at=now,
                prev_state=case.state.value,
            )
            self._audit(account, "request_extension", case, note)
        return self.get(case.id)

    def decide_extension(self, key: str, *, actor: str | None, approve: bool) -> Case:
        """A supervisor approves or refuses a pending extension, never one they or their own unit asked
        for; the case returns to where it was."""
        action = "approve_extension" if approve else "deny_extension"
        self.sync()
        with self.accounts.on_record(actor, action, key), self._tx() as db:
            account = self._account(actor, action, Role.SUPERVISOR)
            case = self.find(key)
            pending = [e for e in self.extensions(case.id) if e.status == "pending"]
            if case.state is not State.EXTENSION_REQUESTED or not pending:
                raise WorkflowError(f"{case.ref}：没有待审批的延期申请")
            request = pending[-1]
            if request.requested_by == account.name:
                raise WorkflowError(f"{case.ref}：{account.describe()}不能审批自己提出的延期申请")
            if request.unit == account.unit:
                raise WorkflowError(
                    f"{case.ref}：{account.describe()}不能审批本单位（{request.unit}）的延期申请，须由另一督办单位审批"
                )
            now = self.now()
            db.set_extension(
                request.id,
                status="approved" if approve else "denied",
                decided_by=account.name,
                decided_at=_ts(now),
            )
            if approve:
                # A deadline that lapsed while waiting keeps its recorded lapse; it is open again until `until`.
                db.set_deadline(request.deadline_id, due_at=_ts(request.until), status="open")
            note = (
                f"{'批准' if approve else '不批准'}延期至 {_local(request.until)}"
                f"（{request.unit} {request.requested_by}：{request.reason}）"
            )
            back = case.prev_state or State.CLAIMED
            self._move(
                db,
                case,
                back,
                action=action,
                actor=account.name,
                unit=account.unit,
                note=note,
                at=now,
                prev_state=None,
            )
            self._audit(account, action, case, note)
        return self.get(case.id)

    def _withdraw_extensions(self, db: CaseRepository, case_id: str, now: datetime) -> None:
        db.withdraw_extensions(case_id, _ts(now))

    def reassign(self, key: str, *, to: str, actor: str | None, reason: str = "") -> Case:
        """指定认领: a supervisor (市委宣传部 or 市政府办) names the unit, one of units.yaml or
        territory.yaml, that must claim; it gets a fresh claim deadline."""
        self.sync()
        with self.accounts.on_record(actor, "reassign", key), self._tx() as db:
            account = self._account(actor, "reassign", Role.SUPERVISOR)
            to = self.accounts.check_unit(to.strip())
            case = self.find(key)
            now = self.now()
            if case.state in (State.CLOSED, State.FALSE_ALARM):
                raise WorkflowError(f"{case.ref}（{case.state.label}）不能再指定认领：已了结的案件不再指定")
            if case.state is State.EXTENSION_REQUESTED:
                self._withdraw_extensions(db, case.id, now)
                case.state = case.prev_state or State.CLAIMED
            for deadline in self._open(case.id, [DeadlineKind.CLAIM]):
                db.set_deadline(deadline.id, status="cancelled")
            responses = {d.kind: d.due_at for d in self._open(case.id, RESPONSE_KINDS)}
            due = self._claim_due(now, {k: v for k, v in responses.items() if v > now})
            self._add_deadline(db, case.id, case.round, DeadlineKind.CLAIM, due, [to])
            for deadline in self._open(case.id, RESPONSE_KINDS):
                db.set_deadline(deadline.id, units=json.dumps([to], ensure_ascii=False))
            note = f"指定{to}认领，认领时限 {_local(due)}" + (f"：{reason}" if reason else "")
            self._move(
                db,
                case,
                State.REASSIGNED,
                action="reassign",
                actor=account.name,
                unit=account.unit,
                note=note,
                at=now,
                assigned=to,
                owner=None,
                prev_state=None,
            )
            self._audit(account, "reassign", case, note)
        return self.get(case.id)

    def _lapse_overdue(self, db: CaseRepository, case: Case, now: datetime) -> list[str]:
        """Record as lapses the deadlines of the case that are past and not met, before they are closed:
        closing a case does not undo what was late. What was recorded, in words."""
        lapsed = []
        for deadline in self._open(case.id):
            if deadline.due_at > now:
                continue
            db.add_lapse(
                deadline.id,
                _ts(deadline.due_at),
                case.id,
                deadline.kind.value,
                _ts(now),
                json.dumps(deadline.units, ensure_ascii=False),
            )
            db.set_deadline(deadline.id, status="lapsed")
            lapsed.append(
                f"{deadline.kind.value}（时限 {_local(deadline.due_at)}，{'、'.join(deadline.units)}）"
            )
        return lapsed

    def close_case(self, key: str, *, actor: str | None, note: str = "") -> Case:
        """办结: the unit that claimed and answered the case closes it, or a supervisor does, giving a
        reason when it was not answered. Deadlines already missed are recorded as lapses first."""
        self.sync()
        with self.accounts.on_record(actor, "close", key), self._tx() as db:
            account = self._account(actor, "close", Role.UNIT, Role.SUPERVISOR)
            case = self.find(key)
            if case.state in (State.CLOSED, State.FALSE_ALARM):
                raise WorkflowError(f"{case.ref}（{case.state.label}）已了结，不能再办结")
            answered = case.state is State.RESPONDED
            if account.role is Role.UNIT:
                if case.owner is None or account.unit != case.owner:
                    owner = case.owner or "尚无单位认领"
                    raise WorkflowError(
                        f"{case.ref}：{account.describe()}不能办结：只有认领本案的单位（{owner}）"
                        f"回应后办结，或由督办办结"
                    )
                if not answered:
                    raise WorkflowError(
                        f"{case.ref}（{case.state.label}）尚未回应完毕：责任单位须先回应再办结，未回应的案件由督办决定办结"
                    )
            elif not answered and not note.strip():
                raise WorkflowError(
                    f"{case.ref}（{case.state.label}）尚未回应：督办办结未回应的案件须写明理由（--reason）"
                )
            now = self.now()
            self._withdraw_extensions(db, case.id, now)
            lapsed = self._lapse_overdue(db, case, now)
            for deadline in self._open(case.id):
                db.set_deadline(deadline.id, status="cancelled")
            text = (note.strip() or "办结") + (f"；逾期已记录在案：{'；'.join(lapsed)}" if lapsed else "")
            self._move(
                db,
                case,
                State.CLOSED,
                action="close",
                actor=account.name,
                unit=account.unit,
                note=text,
                at=now,
                watch_from=_ts(now),
                prev_state=None,
            )
            self._audit(account, "close", case, text)
        return self.get(case.id)

    def mark_false_alarm(self, key: str, *, actor: str | None, reason: str) -> Case:
        """误报: a supervisor finds the alert was wrong (not ours, not what it seemed). The case ends as
        such, its deadlines stop, and the quarterly 通报 counts it against no unit. Only a higher level
        raised for the event later opens it again."""
        self.sync()
        with self.accounts.on_record(actor, "false_alarm", key), self._tx() as db:
            account = self._account(actor, "false_alarm", Role.SUPERVISOR)
            case = self.find(key)
            if case.state is State.FALSE_ALARM:
                raise WorkflowError(f"{case.ref}已标记为误报")
            if not reason.strip():
                raise WorkflowError(f"{case.ref}：标记误报须写明理由")
            now = self.now()
            self._withdraw_extensions(db, case.id, now)
            for deadline in self._open(case.id):
                db.set_deadline(deadline.id, status="cancelled")
            note = f"误报：{reason.strip()}"
            self._move(
                db,
                case,
                State.FALSE_ALARM,
                action="false_alarm",
                actor=account.name,
                unit=account.unit,
                note=note,
                at=now,
                watch_from=None,
                prev_state=None,
            )
            self._audit(account, "false_alarm", case, note)
        return self.get(case.id)

    # -- follow-up ----------------------------------------------------------------------------------

    def observe(
        self, event_id: str, counts: Mapping[str, int] | None, negative_media: Iterable[str] = ()
    ) -> str | None:
        """Feed what the latest patrol saw of an event: its counts and the outlets carrying negative
        coverage. Before a response it only updates the baseline; within the watch after a response,
        interactions growing past the threshold (by `growth` of the baseline and at least `min_increase`)
        or a new negative outlet reopen the case. Returns the reason when it reopened."""
        follow = self.office.schedule.follow_up
        media = [m for m in dict.fromkeys(negative_media) if m]
        reason = None
        with self._tx() as db:
            case = self.get(event_id)
            if case is None:
                return None
            now = self.now()
            base = dict(case.baseline)
            total = interactions(counts) if counts is not None else None
            seen = list(base.get("media", []))
            if self._watching(case, now):
                reasons = []
                before = base.get("total")
                if total is not None and before is not None:
                    increase = total - before
                    if increase >= follow.min_increase and increase >= follow.growth * before:
                        reasons.append(f"互动量由 {before} 增至 {total}（增长 {increase}）")
                new_media = [m for m in media if m not in seen]
                if new_media:
                    reasons.append(f"出现新的负面报道：{'、'.join(new_media)}")
                if reasons:
                    reason = "；".join(reasons)
                    self._reopen(db, case, reason, at=now)
            if total is not None:
                base["total"] = total
            base["media"] = list(dict.fromkeys([*seen, *media]))
            db.set_case(event_id, baseline=json.dumps(base, ensure_ascii=False))
        self._announce_reopened()
        return reason

    def _watching(self, case: Case, at: datetime) -> bool:
        """Answered, and still within the follow-up watch after its last response or closing."""
        days = self.office.schedule.follow_up.watch_days
        return (
            case.state in ANSWERED
            and case.watch_from is not None
            and at <= case.watch_from + timedelta(days=days)
        )

    def watched(self) -> list[Case]:
        """Cases a patrol should look at again: open ones and those within their watch after a response."""
        now = self.now()
        horizon = timedelta(days=self.office.schedule.follow_up.watch_days)
        return [
            c
            for c in self.cases()
            if c.state not in ANSWERED or (c.watch_from is not None and now <= c.watch_from + horizon)
        ]

    def overdue(self, now: datetime | None = None) -> dict[str, list[Deadline]]:
        """Deadlines past due and not met, by case: what `yuqing cases --overdue` lists."""
        now = now or self.now()
        # Nobody answers for an alert no unit was told, nor for one found a false alarm.
        skip = self.untold_cases() | {c.id for c in self._cases_in(State.FALSE_ALARM)}
        out: dict[str, list[Deadline]] = {}
        for deadline in self.deadlines():
            if deadline.case_id in skip:
                continue
            if deadline.status in ("open", "lapsed") and not deadline.met_at and deadline.due_at <= now:
                out.setdefault(deadline.case_id, []).append(deadline)
        return out
