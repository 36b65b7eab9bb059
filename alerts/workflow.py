"""The actions on cases and the sweep (seed 000 附件2 第六条～第九条): opening a case for every alert of
an event, what people do to it (claim, respond, extend, reassign, close, find it a false alarm), and what
time does (reminders, lapses, escalations, reopening when the event flares up after a response).

The case model is alerts/cases.py, its storage alerts/repositories/cases.py on the outbox's connection,
the wording of notices alerts/notices.py. Notices go out as alerts through `Outbox.enqueue`, so they are
delivered like any other alert, exactly once per key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts import notices
from alerts.accounts import Account, Accounts, Role
from alerts.calendar import Cadence
from alerts.cases import (
    ACTION_LABELS,
    ANSWERED,
    RESPONSE_KINDS,
    SYSTEM,
    UNCLAIMED,
    WORKING,
    Case,
    Deadline,
    DeadlineKind,
    Extension,
    HistoryEntry,
    Lapse,
    State,
    WorkflowError,
    check_move,
    check_url,
    claim_due,
    deadlines_for,
    interactions,
    response_deadlines,
    short_id,
)
from alerts.models import Alert
from alerts.notices import local
from alerts.outbox import Outbox
from alerts.repositories.accounts import AccountRepository
from alerts.repositories.cases import CaseRepository
from alerts.signoffs import SignOffs
from alerts.silences import judge as judge_silences
from classifiers.types import Level
from config.models import OfficeConfig, unit_names

logger = logging.getLogger(__name__)

# Delivery states that mean the alert reached someone.
DELIVERED = frozenset({"sent", "digested"})


@dataclass(slots=True)
class SweepReport:
    opened: int = 0
    notified: int = 0
    escalated: int = 0
    overdue: int = 0
    reminders: int = 0
    notices: list[str] = field(default_factory=list)


class Workflow:
    """The cases of one outbox file. `now` is the clock; every action takes its time from it.

    The actions (claim, respond, request_extension, approve_extension, deny_extension, reassign,
    close_case, mark_false_alarm) take a case as typed (`find`) and the acting account's name (`actor`),
    check both in the transaction that writes, and return the case as it now stands."""

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

    def get(self, case_id: str) -> Case | None:
        return self.records.get(case_id)

    def _load(self, case_id: str) -> Case:
        """A case known to exist (its id came from the database in this same run)."""
        case = self.records.get(case_id)
        if case is None:
            raise WorkflowError(f"没有编号为 {case_id} 的案件（见 yuqing cases --all）")
        return case

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
            return self._load(owner)
        ids = self.records.ids()
        short = [i for i in ids if short_id(i) == key.lower()]
        matches = short or [i for i in ids if key in i]
        if len(matches) == 1:
            return self._load(matches[0])
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
        return self.records.opened(opened_from, opened_to)

    def deadlines(self, case_id: str | None = None, *, status: str | None = None) -> list[Deadline]:
        return self.records.deadlines(case_id, status)

    def history(self, case_id: str) -> list[HistoryEntry]:
        return self.records.history(case_id)

    def lapses(self, case_id: str | None = None) -> list[Lapse]:
        return self.records.lapses(case_id)

    def extensions(self, case_id: str | None = None) -> list[Extension]:
        return self.records.extensions(case_id)

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
        **fields: object,
    ) -> None:
        """One transition: checked against the state machine, written with who, when and why."""
        check_move(case.state, to, action, case.ref)
        db.set_case(case.id, state=to, updated_at=at, **fields)
        db.add_history(case.id, at, action, case.state, to, actor, unit, note)
        logger.info(
            "case %s: %s → %s by %s %s %s", case.id, case.state.value, to.value, actor, unit or "", note
        )
        case.state = to

    def _meet(self, db: CaseRepository, deadline: Deadline, now: datetime, unit: str | None) -> bool:
        """Record that a deadline was met now; True when in time. Met late, it is a lapse on record even
        if no sweep ran between the deadline and now."""
        in_time = deadline.status == "open" and now <= deadline.due_at
        if not in_time:
            db.add_lapse(deadline, now)
        db.set_deadline(deadline.id, status="met" if in_time else "lapsed", met_at=now, met_unit=unit)
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

    def _claim_due(self, notified_at: datetime, responses: Mapping[DeadlineKind, datetime]) -> datetime:
        return claim_due(self.cadence, notified_at, responses)

    def _raise_notice(self, alert: Alert, kind: str, case_id: str, report: SweepReport | None) -> None:
        # Enqueue first, record second: a crash in between re-enqueues (a no-op) on the next sweep.
        new = self.outbox.enqueue(alert)
        self.records.add_notice(alert.key, case_id, kind, self.now())
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
            if alert.key in known or alert.key in untold or not alert.about_event:
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
            case = self._case_of_event(alert.event_id)
            db.add_alert(alert.key, case.id if case else alert.event_id, alert.level, alert.created_at)
            if case is None:
                self._open_case(db, alert)
                return 1
            if case.state in ANSWERED:
                # A higher level, or the outbox re-telling the event because it keeps growing (a numbered
                # re-alert), is the resurgence seed 003 describes: 回应—演化—新回应—再演化.
                higher = alert.level.rank > case.level.rank
                if higher or (alert.realert and self._watching(case, alert.created_at)):
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
                alert.created_at,
                "alert",
                case.state,
                case.state,
                SYSTEM,
                note=f"同一事件新预警 {alert.key}",
            )
        if case.state in ANSWERED:
            self.observe(case.id, None, [alert.source])
        return 0

    def _case_of_event(self, event_id: str) -> Case | None:
        """The event's case: opened under its id, or else under the id of an event later found to be part
        of it (the one merged first), which keeps its id and number."""
        if (case := self.get(event_id)) is not None:
            return case
        for absorbed in self.outbox.merged_into(event_id):
            if (case := self.get(absorbed)) is not None:
                return case
        return None

    def _note_media(self, db: CaseRepository, case: Case, source: str) -> None:
        media = list(case.baseline.get("media", []))
        if source and source not in media:
            baseline = {**case.baseline, "media": [*media, source]}
            db.set_case(case.id, baseline=baseline)

    def _open_case(self, db: CaseRepository, alert: Alert) -> None:
        at = alert.created_at
        case = Case(
            id=alert.event_id,
            alert_key=alert.key,
            post_id=alert.post_id,
            level=alert.level,
            title=alert.title,
            url=alert.url,
            source=alert.source,
            counties=list(alert.counties),
            first=list(alert.first),
            claim=list(alert.claim),
            opened_at=at,
            state=State.NEW,
            prev_state=None,
            round=0,
            round_started_at=at,
            owner=None,
            assigned=None,
            updated_at=at,
            watch_from=None,
            # The outlet that raised it is coverage already known, not "new" coverage later.
            baseline={"media": [alert.source]},
        )
        db.open_case(case)
        dues = deadlines_for(alert.level, at, self.cadence)
        claim_at = dues.pop(DeadlineKind.CLAIM)
        db.add_deadline(case.id, 0, DeadlineKind.CLAIM, claim_at, case.expected)
        for kind, due in dues.items():
            db.add_deadline(case.id, 0, kind, due, case.answerable)
        db.add_history(
            case.id,
            at,
            "open",
            None,
            State.NEW,
            SYSTEM,
            note=f"{alert.level.value}预警 {alert.key}；认领时限 {local(claim_at)}",
        )

    def _upgrade(self, db: CaseRepository, case: Case, alert: Alert) -> None:
        """A higher level for an open case: its response deadlines become the new level's."""
        for deadline in self._open(case.id, RESPONSE_KINDS):
            db.set_deadline(deadline.id, status="cancelled")
        responses = response_deadlines(alert.level, alert.created_at)
        for kind, due in responses.items():
            db.add_deadline(case.id, case.round, kind, due, case.answerable)
        for claim in self._open(case.id, [DeadlineKind.CLAIM]):
            earliest = min(responses.values())
            if earliest < claim.due_at:
                db.set_deadline(claim.id, due_at=earliest)
        note = f"级别由{case.level.value}升至{alert.level.value}（预警 {alert.key}）"
        db.set_case(case.id, level=alert.level, alert_key=alert.key, updated_at=alert.created_at)
        db.add_history(case.id, alert.created_at, "upgrade", case.state, case.state, SYSTEM, note=note)

    def _reopen(
        self, db: CaseRepository, case: Case, reason: str, *, at: datetime, level: Level | None = None
    ) -> None:
        level = level or case.level
        round_ = case.round + 1
        for deadline in self._open(case.id):
            db.set_deadline(deadline.id, status="cancelled")
        responses = response_deadlines(level, at)
        if case.owner is None:
            db.add_deadline(
                case.id, round_, DeadlineKind.CLAIM, self._claim_due(at, responses), case.expected
            )
        for kind, due in responses.items():
            db.add_deadline(case.id, round_, kind, due, case.answerable)
        self._move(
            db,
            case,
            State.REOPENED,
            action="reopen",
            actor=SYSTEM,
            note=reason,
            at=at,
            round=round_,
            round_started_at=at,
            level=level,
            prev_state=None,
        )
        case.round, case.round_started_at, case.level = round_, at, level

    def _announce_reopened(self, report: SweepReport | None = None) -> None:
        """Tell the unit about every reopened case not yet announced. Run after the reopening commits,
        and by every sweep, so a crash between the two still announces it once."""
        for case in self._cases_in(State.REOPENED):
            reason = next((h.note for h in reversed(self.history(case.id)) if h.action == "reopen"), "")
            dues = [d for d in self._open(case.id) if d.round == case.round]
            notice = notices.reopened(case, reason, dues, self.city)
            if self.records.notice_exists(notice.key):
                continue
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
        if not self.read_only:
            report.notices.extend(SignOffs(self).remind(now))  # checkpoints left unsigned
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
                current = self._load(case.id)
                if current.state is not State.NEW:
                    continue
                self._move(
                    db, current, State.NOTIFIED, action="notify", actor=SYSTEM, note="预警已送达", at=now
                )
                marked += 1
        return marked

    def _cases_in(self, *states: State) -> list[Case]:
        return self.records.in_states(states)

    def _lapse(self, deadline: Deadline, now: datetime, report: SweepReport) -> None:
        case = self._load(deadline.case_id)
        kind = "escalation" if deadline.kind is DeadlineKind.CLAIM else "overdue"
        self._raise_notice(notices.lapsed(case, deadline, self.city), kind, case.id, report)
        with self._tx() as db:
            if not db.lapse_if_open(deadline):
                return  # another sweeper recorded it, or the unit acted in the meantime
            db.add_lapse(deadline, now)
            case = self._load(case.id)
            if deadline.kind is DeadlineKind.CLAIM and case.state in UNCLAIMED:
                self._move(
                    db,
                    case,
                    State.ESCALATED,
                    action="escalate",
                    actor=SYSTEM,
                    unit=self.city.propaganda,
                    note=notices.escalation_note(deadline, self.city),
                    at=now,
                )
                report.escalated += 1
            else:
                note = notices.overdue_note(deadline)
                db.add_history(case.id, now, "overdue", case.state, case.state, SYSTEM, note=note)
                report.overdue += 1

    def _remind(self, deadline: Deadline, now: datetime, report: SweepReport) -> None:
        leads: list[int] = getattr(self.office.schedule.reminders, deadline.kind.option)
        reached = [lead for lead in leads if now >= deadline.due_at - timedelta(minutes=lead)]
        if not reached:
            return
        # After downtime several reminders may be due at once; only the most urgent is worth sending.
        case = self._load(deadline.case_id)
        notice = notices.reminder(case, deadline, min(reached), now)
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
                    late.append(local(deadline.due_at))
            for deadline in self._open(case.id, RESPONSE_KINDS):
                db.set_deadline(deadline.id, units=[unit])
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
        return self._load(case.id)

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
                    f"{deadline.kind.value}{'按时' if in_time else '逾期'}（时限 {local(deadline.due_at)}）"
                )
            remaining = self._outstanding(case.id, RESPONSE_KINDS, case.round)
            note = f"{kind.value} {url}" + (f"；{'，'.join(met_notes)}" if met_notes else "；持续发布")
            if case.state is State.EXTENSION_REQUESTED:
                db.withdraw_extensions(case.id, now)
                case.state = case.prev_state or State.CLAIMED
            moved: dict[str, object] = {"watch_from": now} if not remaining else {}
            to = State.RESPONDED if not remaining else State.FIRST_RELEASE
            if remaining and case.state is State.FIRST_RELEASE:
                to = case.state
            self._move(
                db, case, to, action="respond", actor=account.name, unit=unit, note=note, at=now, **moved
            )
            self._audit(account, "respond", case, note)
        return self._load(case.id)

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
                    f"{case.ref}：延期至 {local(until)} 不晚于现在的{target.kind.value}时限 {local(target.due_at)}"
                )
            if until <= now:
                raise WorkflowError(f"{case.ref}：延期至 {local(until)} 已经过去")
            hours = self.office.schedule.max_extension_hours
            latest = target.original_due_at + timedelta(hours=hours)
            if until > latest:
                raise WorkflowError(
                    f"{case.ref}：延期至 {local(until)} 超过上限：{target.kind.value}最多比原时限"
                    f" {local(target.original_due_at)} 延后 {hours} 小时，即不晚于 {local(latest)}"
                    "（schedule.yaml 的 max_extension_hours）"
                )
            db.add_extension(
                case_id=case.id,
                deadline_id=target.id,
                unit=account.unit,
                requested_by=account.name,
                requested_at=now,
                until=until,
                reason=reason,
            )
            note = f"{target.kind.value}时限 {local(target.due_at)} 申请延至 {local(until)}：{reason}"
            self._move(
                db,
                case,
                State.EXTENSION_REQUESTED,
                action="request_extension",
                actor=account.name,
                unit=account.unit,
                note=note,
                at=now,
                prev_state=case.state,
            )
            self._audit(account, "request_extension", case, note)
        return self._load(case.id)

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
            db.decide_extension(
                request.id,
                status="approved" if approve else "denied",
                decided_by=account.name,
                decided_at=now,
            )
            if approve:
                # A deadline that lapsed while waiting keeps its recorded lapse; it is open again until `until`.
                db.set_deadline(request.deadline_id, due_at=request.until, status="open")
            note = (
                f"{'批准' if approve else '不批准'}延期至 {local(request.until)}"
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
        return self._load(case.id)

    def approve_extension(self, key: str, *, actor: str | None) -> Case:
        """审批延期, granted: the pending request's new time becomes the deadline."""
        return self.decide_extension(key, actor=actor, approve=True)

    def deny_extension(self, key: str, *, actor: str | None) -> Case:
        """审批延期, refused: the deadline stays as it was."""
        return self.decide_extension(key, actor=actor, approve=False)

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
                db.withdraw_extensions(case.id, now)
                case.state = case.prev_state or State.CLAIMED
            for deadline in self._open(case.id, [DeadlineKind.CLAIM]):
                db.set_deadline(deadline.id, status="cancelled")
            responses = {d.kind: d.due_at for d in self._open(case.id, RESPONSE_KINDS)}
            due = self._claim_due(now, {k: v for k, v in responses.items() if v > now})
            db.add_deadline(case.id, case.round, DeadlineKind.CLAIM, due, [to])
            for deadline in self._open(case.id, RESPONSE_KINDS):
                db.set_deadline(deadline.id, units=[to])
            note = f"指定{to}认领，认领时限 {local(due)}" + (f"：{reason}" if reason else "")
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
        return self._load(case.id)

    def _lapse_overdue(self, db: CaseRepository, case: Case, now: datetime) -> list[str]:
        """Record as lapses the deadlines of the case that are past and not met, before they are closed:
        closing a case does not undo what was late. What was recorded, in words."""
        lapsed = []
        for deadline in self._open(case.id):
            if deadline.due_at > now:
                continue
            db.add_lapse(deadline, now)
            db.set_deadline(deadline.id, status="lapsed")
            lapsed.append(
                f"{deadline.kind.value}（时限 {local(deadline.due_at)}，{'、'.join(deadline.units)}）"
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
            db.withdraw_extensions(case.id, now)
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
                watch_from=now,
                prev_state=None,
            )
            self._audit(account, "close", case, text)
        return self._load(case.id)

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
            db.withdraw_extensions(case.id, now)
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
        return self._load(case.id)

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
            db.set_case(event_id, baseline=base)
        self._announce_reopened()
        return reason

    def _watching(self, case: Case, at: datetime) -> bool:
        return case.watching(at, self.office.schedule.follow_up.watch_days)

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
