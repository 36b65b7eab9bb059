"""Analysts' corrections of a post's analysis, kept as labels in the alerts database.

An analyst who reads a post and judges its sentiment, level, county or line of work differently records the
correction; it is kept with what the model said, who, when and the post's text as it was, and shown beside
the model's judgement. Every correction stays; the latest for a post and field is its label. The sentiment
labels are exported in the format `yuqing train sentiment --labels` reads, and the labels so far measure how
often the model agrees with the analysts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, select

from alerts.accounts import SHELL, AccountError
from alerts.calendar import SHANGHAI
from alerts.rulebook import EDITORS
from alerts.schema import labels
from alerts.workflow import Workflow

# What can be corrected, in the words the pages use.
FIELDS = {"sentiment": "情感倾向", "level": "级别", "county": "属地县区", "department": "主管部门"}
SENTIMENTS = {"positive": "正面", "neutral": "中性", "negative": "负面"}
NOT_LOCAL = "不涉及本地"
NO_DEPARTMENT = "无"


@dataclass(frozen=True, slots=True)
class Label:
    post_id: str
    field: str
    value: str
    model_value: str
    text: str
    account: str
    labelled_at: datetime

    @property
    def agrees(self) -> bool:
        return self.value == self.model_value


@dataclass(frozen=True, slots=True)
class Agreement:
    field: str
    labelled: int  # posts with a label of this field
    agreeing: int  # of them, where the model had said the same

    @property
    def share(self) -> float | None:
        return self.agreeing / self.labelled if self.labelled else None


class Labels:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.db = workflow.outbox.database

    def correct(
        self,
        actor: str,
        post_id: str,
        field: str,
        value: str,
        *,
        model_value: str,
        text: str,
        allowed: list[str],
        origin: str = SHELL,
    ) -> Label:
        """`actor` records `value` as the post's `field` (one of `allowed`), beside the model's."""
        book = self.workflow.accounts
        target = f"{post_id} {FIELDS.get(field, field)}"
        with book.on_record(actor, "label", target), self.db.transaction():
            account = book.acting(actor)
            if account.role not in EDITORS:
                raise AccountError(f"{account.describe()}不能更正研判：须由分析员或管理员账号操作")
            if field not in FIELDS:
                raise AccountError(f"只能更正{'、'.join(FIELDS.values())}")
            if value not in allowed:
                raise AccountError(f"{FIELDS[field]}不能是「{value}」，可选：{'、'.join(allowed)}")
            now = self.workflow.now()
            self.db.execute(
                labels.insert().values(
                    post_id=post_id,
                    field=field,
                    value=value,
                    model_value=model_value,
                    text=text,
                    account=account.name,
                    labelled_at=now.isoformat(),
                )
            )
            book.record(
                account,
                "label",
                target,
                detail=f"模型：{model_value or '无'}；更正为：{value}",
                origin=origin,
            )
        return Label(post_id, field, value, model_value, text, account.name, now)

    def of_post(self, post_id: str) -> dict[str, Label]:
        """The post's label of each field: its latest correction."""
        query = select(labels).where(labels.c.post_id == post_id).order_by(labels.c.id)
        return {row["field"]: _label(row) for row in self.db.execute(query).mappings()}

    def latest(self) -> list[Label]:
        """Every post's label of each field, the latest correction of each."""
        found: dict[tuple[str, str], Label] = {}
        for row in self.db.execute(select(labels).order_by(labels.c.id)).mappings():
            found[(row["post_id"], row["field"])] = _label(row)
        return list(found.values())

    def sentiment_examples(self) -> list[tuple[str, str]]:
        """(text, 正面|中性|负面) of each post whose sentiment an analyst labelled: `yuqing train sentiment`'s
        input."""
        return [
            (label.text, SENTIMENTS[label.value]) for label in self.latest() if label.field == "sentiment"
        ]

    def agreement(self) -> list[Agreement]:
        """How often the model said what the analysts say, per field, over every label so far."""
        chosen = self.latest()
        return [
            Agreement(
                field,
                sum(1 for label in chosen if label.field == field),
                sum(1 for label in chosen if label.field == field and label.agrees),
            )
            for field in FIELDS
        ]


def _label(row: RowMapping) -> Label:
    return Label(
        post_id=row["post_id"],
        field=row["field"],
        value=row["value"],
        model_value=row["model_value"],
        text=row["text"],
        account=row["account"],
        labelled_at=datetime.fromisoformat(row["labelled_at"]).astimezone(SHANGHAI),
    )
