"""The records an office files, assembled from everything they report on: the cases and sign-offs of the
alerts database, each source's health, and the stored posts. The documents themselves are laid out by
alerts/documents.py; this is where the command line and the console get them."""

from __future__ import annotations

from datetime import date

from alerts.documents import SourceLine, daily_log_docx
from alerts.records import daily_log
from alerts.signoffs import SignOffs
from alerts.workflow import Workflow
from config.env import Env
from pipeline.health import source_verdicts


def source_lines(env: Env, workflow: Workflow) -> list[SourceLine]:
    """Each configured source's health as a log reports it: 正常, or 故障/注意 with the reason."""
    lines = []
    for verdict in source_verdicts(env, workflow.office, workflow.now()):
        if not verdict["configured"]:
            continue
        if verdict["status"] == "ok":
            said = "正常"
        else:
            said = f"{'故障' if verdict['status'] == 'fail' else '注意'}：{verdict['reason']}"
        lines.append(SourceLine(verdict["label"], said))
    return lines


def daily_log_document(workflow: Workflow, env: Env, day: date) -> bytes:
    """The day's 舆情日志 as a Word document (needs the territory, units and sources config loaded)."""
    office = workflow.office
    return daily_log_docx(
        office=office.territory.city,
        issuer=office.units.city_units.cyberspace,
        day=day,
        log=daily_log(workflow, day),
        checkpoints=SignOffs(workflow).checkpoints(day),
        sources=source_lines(env, workflow),
        now=workflow.now(),
    )
