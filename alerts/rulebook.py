"""The analysts' keyword rules, versioned in the alerts database.

Each save is a whole rules file (the format of config/rules.yaml), checked whole before anything changes,
with who saved it, when and why; the newest is in force. It is written to `Env.rules_path`, which every
command and the next patrol read in place of the config folder's rules.yaml (`config.loader.rules_in_force`),
so a save takes effect at the next patrol without a restart. Until the first save the folder's file is in
force. Any version can be restored: that is a new version with the old content.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import RowMapping

from alerts.accounts import SHELL, AccountError, Role
from alerts.calendar import SHANGHAI
from alerts.repositories.rulebook import RuleMarkRepository, RuleVersionRepository
from alerts.workflow import Workflow
from config.env import Env
from config.loader import check_rules_text, config_dir
from config.models import RuleConfig, RulesFile

EDITORS = (Role.ANALYST, Role.ADMIN)
# An analyst's mark on a rule's hit: it was right, or a false alarm (误报).
VERDICTS = {"right": "命中正确", "wrong": "误报"}


@dataclass(frozen=True, slots=True)
class Precision:
    right: int
    wrong: int

    @property
    def marked(self) -> int:
        return self.right + self.wrong

    @property
    def share(self) -> float | None:
        """The share of marked hits that were right; None before any is marked."""
        return self.right / self.marked if self.marked else None


# What a rule's fields are called where people read them.
FIELD_LABELS = {
    "name": "名称",
    "category": "类别",
    "weight": "权重",
    "min_level": "最低级别",
    "expr": "表达式",
}


@dataclass(frozen=True, slots=True)
class RuleVersion:
    number: int
    saved_at: datetime
    account: str
    reason: str
    body: str
    digest: str
    restored_from: int | None

    def rules(self) -> RulesFile:
        return check_rules_text(self.body, f"规则第 {self.number} 版")


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One rule added, removed or changed between two versions, each changed field before and after."""

    rule_id: str
    kind: str  # 新增 删除 修改
    fields: tuple[tuple[str, str, str], ...]  # (label, before, after)


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _shown(rule: RuleConfig, field: str) -> str:
    value = getattr(rule, field)
    if value is None:
        return ""
    return (
        value.value if hasattr(value, "value") else f"{value:g}" if isinstance(value, float) else str(value)
    )


def diff(before: RulesFile | None, after: RulesFile) -> list[RuleChange]:
    """What changed from `before` to `after`, rule by rule, in `after`'s order, then the removed ones."""
    old = {rule.id: rule for rule in (before.rules if before else [])}
    changes = []
    for rule in after.rules:
        was = old.pop(rule.id, None)
        if was is None:
            changes.append(
                RuleChange(
                    rule.id, "新增", tuple((FIELD_LABELS[f], "", _shown(rule, f)) for f in FIELD_LABELS)
                )
            )
            continue
        fields = tuple(
            (label, _shown(was, f), _shown(rule, f))
            for f, label in FIELD_LABELS.items()
            if _shown(was, f) != _shown(rule, f)
        )
        if fields:
            changes.append(RuleChange(rule.id, "修改", fields))
    for rule in old.values():
        changes.append(
            RuleChange(rule.id, "删除", tuple((FIELD_LABELS[f], _shown(rule, f), "") for f in FIELD_LABELS))
        )
    return changes


def with_rule(text: str, rule: RuleConfig, *, replacing: str | None = None) -> str:
    """The rules file `text` with `rule` in place of the one with id `replacing` (None: added at the end).
    The comment block heading the file is kept; the rules are written out anew, one field a line."""
    rules = list(check_rules_text(text, "规则").rules)
    if replacing is None:
        rules.append(rule)
    else:
        rules = [rule if r.id == replacing else r for r in rules]
    return dump(_heading(text), rules)


def dump(heading: str, rules: list[RuleConfig]) -> str:
    body = []
    for rule in rules:
        data = rule.model_dump(mode="json", exclude_none=True)
        entry = yaml.safe_dump([data], allow_unicode=True, sort_keys=False, width=1_000_000)
        body.append("  " + entry.rstrip("\n").replace("\n", "\n  "))
    return heading + "rules:\n" + "\n\n".join(body) + "\n"


def _heading(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("rules:"):
            break
        lines.append(line)
    return "".join(lines)


class Rulebook:
    def __init__(self, workflow: Workflow, env: Env) -> None:
        self.workflow = workflow
        self.env = env
        self.records = RuleVersionRepository(workflow.outbox.database)
        self.marks = RuleMarkRepository(workflow.outbox.database)

    # -- reading --------------------------------------------------------------------------------------

    def versions(self) -> list[RuleVersion]:
        """Every saved version, newest (the one in force) first."""
        return [_version(row) for row in self.records.all()]

    def current(self) -> RuleVersion | None:
        row = self.records.newest()
        return _version(row) if row else None

    def get(self, number: int) -> RuleVersion | None:
        row = self.records.get(number)
        return _version(row) if row else None

    def folder_text(self) -> str:
        """The config folder's rules.yaml, in force until the first version is saved."""
        return (config_dir() / "rules.yaml").read_text(encoding="utf-8")

    def text_in_force(self) -> str:
        """The newest version; before the first, the rules file in force (a demo's carried over from the
        last demo), else the config folder's."""
        current = self.current()
        if current:
            return current.body
        try:
            return self.env.rules_path.read_text(encoding="utf-8")
        except OSError:
            return self.folder_text()

    def before(self, version: RuleVersion) -> RulesFile | None:
        """What `version` changed: the version saved before it, or the folder's file for the first."""
        earlier = [v for v in self.versions() if v.number < version.number]
        if earlier:
            return earlier[0].rules()
        return check_rules_text(self.folder_text(), str(config_dir() / "rules.yaml"))

    # -- changing -------------------------------------------------------------------------------------

    def save(
        self, actor: str, text: str, reason: str, *, origin: str = SHELL, restored_from: int | None = None
    ) -> RuleVersion:
        """A new version in force, saved as `actor`; the whole file is checked first (ConfigError names the
        line), and nothing changes unless every rule in it compiles."""
        book = self.workflow.accounts
        action = "rules_restore" if restored_from else "rules_save"
        with book.on_record(actor, action, "关键词规则"):
            account = book.acting(actor)
            if account.role not in EDITORS:
                raise AccountError(f"{account.describe()}不能修改关键词规则：须由分析员或管理员账号操作")
            if not reason.strip():
                raise AccountError("请写明修改原因，以便日后查对")
        rules = check_rules_text(text, "要保存的规则")
        if digest_of(text) == digest_of(self.text_in_force()):
            raise AccountError("与现行规则完全相同，无需保存新版本")
        now = self.workflow.now()
        with book.on_record(actor, action, "关键词规则"), self.workflow.outbox.database.transaction():
            number = self.records.add(
                saved_at=now.isoformat(),
                account=account.name,
                reason=reason.strip(),
                body=text,
                digest=digest_of(text),
                restored_from=restored_from,
            )
            detail = f"第 {number} 版，{len(rules.rules)} 条规则：{reason.strip()}"
            book.record(account, action, "关键词规则", detail=detail, origin=origin)
        self.materialise()
        saved = self.get(number)
        assert saved is not None
        return saved

    def restore(self, actor: str, number: int, reason: str, *, origin: str = SHELL) -> RuleVersion:
        old = self.get(number)
        if old is None:
            raise AccountError(f"没有第 {number} 版规则（见 yuqing rules versions）")
        return self.save(
            actor, old.body, reason or f"恢复到第 {number} 版", origin=origin, restored_from=number
        )

    # -- marks on hits ---------------------------------------------------------------------------------

    def mark(self, actor: str, post_id: str, rule_id: str, verdict: str, *, origin: str = SHELL) -> None:
        """`actor` marks the rule's hit on the post right or wrong (误报); a later mark replaces theirs or
        another's, and each is on the audit trail."""
        book = self.workflow.accounts
        target = f"{post_id} 规则 {rule_id}"
        with book.on_record(actor, "rule_mark", target), self.workflow.outbox.database.transaction():
            account = book.acting(actor)
            if account.role not in EDITORS:
                raise AccountError(f"{account.describe()}不能标注规则命中：须由分析员或管理员账号操作")
            if verdict not in VERDICTS:
                raise AccountError(f"标注只能是 {'、'.join(VERDICTS.values())}")
            self.marks.set(
                post_id=post_id,
                rule_id=rule_id,
                verdict=verdict,
                account=account.name,
                marked_at=self.workflow.now().isoformat(),
            )
            book.record(account, "rule_mark", target, detail=VERDICTS[verdict], origin=origin)

    def marks_of(self, post_ids: list[str]) -> dict[tuple[str, str], str]:
        """(post id, rule id) -> verdict, for the posts given."""
        return {key: row["verdict"] for key, row in self.marks.of_posts(post_ids).items()}

    def precision(self) -> dict[str, Precision]:
        return {
            rule: Precision(counts.get("right", 0), counts.get("wrong", 0))
            for rule, counts in self.marks.tally().items()
        }

    def materialise(self) -> None:
        """The version in force written where the commands and the next patrol read it (atomically), if it
        is not there already; nothing when no version has been saved."""
        current = self.current()
        if current is None:
            return
        path: Path = self.env.rules_path
        try:
            if path.read_text(encoding="utf-8") == current.body:
                return
        except (OSError, UnicodeDecodeError):
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(current.body, encoding="utf-8")
        tmp.replace(path)


def _version(row: RowMapping) -> RuleVersion:
    return RuleVersion(
        number=int(row["id"]),
        saved_at=datetime.fromisoformat(row["saved_at"]).astimezone(SHANGHAI),
        account=row["account"],
        reason=row["reason"],
        body=row["body"],
        digest=row["digest"],
        restored_from=row["restored_from"],
    )
