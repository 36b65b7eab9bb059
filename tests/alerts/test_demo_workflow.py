"""The whole path end to end in real processes: a demo patrol's serious item reaches its county
units by email and duty staff through the DingTalk bot (a real SMTP server and bot on 127.0.0.1), it is
claimed in time, an unclaimed item escalates to 市委宣传部 and 市政府办 on time by the same channels, and
the quarterly 通报 shows both."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from commands.cli import app
from config.env import get_env
from config.loader import DEFAULT_DIR, load_config
from tests.alerts.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.alerts.receiver import BotReceiver
from tests.alerts.test_workflow import Clock
from tests.helpers import office_env, run_demo
from tests.helpers import yuqing as run_yuqing

ADDRESSES = {
    "范县县委宣传部": "xcb@fanxian.example.gov.cn",
    "范县政府办": "zfb@fanxian.example.gov.cn",
    "范县公安局": "gaj@fanxian.example.gov.cn",
    "清丰县委宣传部": "xcb@qingfeng.example.gov.cn",
    "清丰县政府办": "zfb@qingfeng.example.gov.cn",
    "市委宣传部": "xcb@puyang.example.gov.cn",
    "市政府办": "zfb@puyang.example.gov.cn",
}


def alerts_yaml(smtp: SmtpServer) -> str:
    to = "\n".join(f"        {unit}: [{address}]" for unit, address in ADDRESSES.items())
    mail_units = "\n".join(f"  {unit}: [office-mail]" for unit in ADDRESSES if not unit.startswith("市"))
    return f"""
min_level: 社会热点问题
channels:
  - name: console
    type: console
  - name: office-mail
    type: email
    options:
      host: {smtp.host}
      port: {smtp.port}
      security: none
      user: {SMTP_USER}
      password_env: YUQING_SMTP_PASSWORD
      from: {SMTP_USER}
      to:
{to}
  - name: duty-dingtalk
    type: dingtalk
    options:
      url_env: YUQING_DINGTALK_URL
      secret_env: YUQING_DINGTALK_SECRET
delivery:
  wait_seconds: 5
recipients:
{mail_units}
  市委宣传部: [office-mail, duty-dingtalk]
  市政府办: [office-mail]
  市网信办值班室: [duty-dingtalk]
"""


def demo(env: dict[str, str], *options: str) -> str:
    return run_demo(env, *options).stdout


def yuqing(*args: str, now: str) -> str:
    """A command on the demo's data, at `now`."""
    result = CliRunner().invoke(app, [*args, "--demo"], env={"YUQING_NOW": now})
    assert result.exit_code == 0, result.output
    return result.output


def mails_to(smtp: SmtpServer, unit: str) -> list[str]:
    return [str(mail["Subject"]) for rcpts, mail in smtp.mailbox.messages if ADDRESSES[unit] in rcpts]


def only_weibo_search(office: Path) -> None:
    """The recorded 微博 search carries both stories; the other sources are paused to keep the test short."""
    path = office / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["enabled"] = source["name"] == "weibo_search"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def office_with_channels(tmp_path: Path, smtp: SmtpServer, receiver: BotReceiver) -> dict[str, str]:
    """An office whose alerts go by email and DingTalk to local servers; the environment to run it in."""
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (office / "alerts.yaml").write_text(alerts_yaml(smtp), encoding="utf-8")
    only_weibo_search(office)
    return office_env(
        tmp_path / "var",
        YUQING_CONFIG_DIR=str(office),
        YUQING_SMTP_PASSWORD=SMTP_PASSWORD,
        YUQING_DINGTALK_URL=receiver.dingtalk_url,
        YUQING_DINGTALK_SECRET="SECabc123def456",
        COLUMNS="220",
    )


def test_a_demo_tells_nobody_unless_asked_to_deliver(
    tmp_path: Path, smtp: SmtpServer, receiver: BotReceiver
) -> None:
    """The demo's stories are invented: configured channels are shown on screen, never used."""
    output = demo(office_with_channels(tmp_path, smtp, receiver))
    assert "演示，未真实发送（实际将经邮件渠道「office-mail」）致 范县县委宣传部" in output
    assert "演示，未真实发送（实际将经钉钉机器人渠道「duty-dingtalk」）致 市网信办值班室" in output
    assert smtp.mailbox.messages == []
    assert receiver.of("dingtalk") == []


def test_demo_patrol_notifies_escalates_and_reports(
    tmp_path: Path, smtp: SmtpServer, receiver: BotReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = office_with_channels(tmp_path, smtp, receiver)
    data, office = Path(env["YUQING_DATA_DIR"]), Path(env["YUQING_CONFIG_DIR"])
    # What follows runs on the demo's data too, sending for real as the demo was asked to.
    monkeypatch.setenv("YUQING_DEMO_DELIVER", "1")

    # 09:00 — the demo patrol: the 范县 crash is a 重大突发事态 for 范县's units, by email and to the duty bot.
    demo(env, "--deliver")
    assert any("【重大突发事态】" in s and "相撞" in s for s in mails_to(smtp, "范县县委宣传部"))
    # A road crash is the traffic police's first (公安, 交警).
    assert any("【重大突发事态】" in s and "相撞" in s for s in mails_to(smtp, "范县公安局"))
    duty_bot = [r.body["markdown"]["title"] + r.body["markdown"]["text"] for r in receiver.of("dingtalk")]
    assert any("重大突发事态" in text and "相撞" in text for text in duty_bot)

    # Duty staff and the units act from here on, on the demo's data (`--demo`).
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_env.cache_clear()
    outbox = Outbox(data / "demo" / "alerts.sqlite3")
    workflow = Workflow(outbox, load_config(office), Clock("2026-11-23T09:00"))
    workflow.sync()
    cases = workflow.cases()
    crash = next(c for c in cases if c.level is Level.MAJOR_EMERGENCY and c.counties == ["范县"])
    assert [c for c in cases if "范县" in c.counties and c.level is Level.MAJOR_EMERGENCY] == [crash]
    wages = next(c for c in cases if c.counties == ["清丰县"])
    workflow.close()
    outbox.close()

    # 09:10 — the accounts the README creates: the first administrator, then a 范县 officer, in the demo.
    yuqing("user", "add", "管理员", "--role", "admin", now="2026-11-23T09:10:00+08:00")
    yuqing(
        *["user", "add", "李明", "--role", "unit", "--unit", "范县县委宣传部", "--as", "管理员"],
        now="2026-11-23T09:10:00+08:00",
    )

    # 09:20 — 范县 claims its case by the short id `cases` shows; 清丰 does not.
    assert crash.short_id in yuqing("cases", now="2026-11-23T09:20:00+08:00")
    claimed = yuqing("claim", crash.short_id, "--as", "李明", now="2026-11-23T09:20:00+08:00")
    assert f"已认领：案件 {crash.short_id}（已认领，范县县委宣传部）" in claimed
    released = yuqing(
        *["respond", crash.short_id, "--kind", "首次发布", "--url", "https://www.fanxian.gov.cn/xwfb/1.html"],
        *["--as", "李明"],
        now="2026-11-23T09:25:00+08:00",
    )
    assert f"已记录：案件 {crash.short_id}（已首次发布，范县县委宣传部）；下一时限：新闻发布会" in released
    before = len(smtp.mailbox.messages)

    # 09:29 — nothing is late yet.
    assert "逾期升级 0 件" in yuqing("sweep", now="2026-11-23T09:29:00+08:00")
    assert not any("逾期未认领" in str(mail["Subject"]) for _, mail in smtp.mailbox.messages[before:])

    # 09:30 — the claim patrol: 清丰's case escalates to 市委宣传部 and 市政府办, by email and bot.
    assert "逾期升级 0 件" not in yuqing("sweep", now="2026-11-23T09:30:00+08:00")
    escalations = [s for s in mails_to(smtp, "市委宣传部") if "逾期未认领" in s and wages.title[:10] in s]
    assert len(escalations) == 1
    assert any("逾期未认领" in s and wages.title[:10] in s for s in mails_to(smtp, "市政府办"))
    assert any("逾期未认领" in s and wages.title[:10] in s for s in mails_to(smtp, "清丰县委宣传部"))
    assert any("逾期未认领" in r.body["markdown"]["title"] for r in receiver.of("dingtalk"))
    assert not any("逾期未认领" in s for s in mails_to(smtp, "范县县委宣传部"))

    # The assessment shows both: 范县 claimed in time, 清丰's lapse on record.
    report = yuqing(
        "report", "--quarter", "2026Q4", "--csv", str(tmp_path / "q4.csv"), now="2026-11-23T09:40:00+08:00"
    )
    rows = {
        line.split(",")[0]: line.split(",")[1:]
        for line in (tmp_path / "q4.csv").read_text("utf-8-sig").splitlines()
    }
    assert int(rows["范县县委宣传部"][0]) >= 1  # received
    assert rows["范县县委宣传部"][1] == "1"  # claimed in time
    assert rows["清丰县委宣传部"][:2] == ["1", "0"]
    assert rows["清丰县委宣传部"][3] == "1"  # overdue
    assert rows["单位"] == ["收到", "按时认领", "按时回应", "逾期", "申请延期", "批准延期"]
    assert wages.short_id in report
    assert "逾期记录" in report

    # On record: opened by the patrol, delivered, escalated by the sweep at 09:30.
    outbox = Outbox(data / "demo" / "alerts.sqlite3")
    workflow = Workflow(outbox, load_config(office), Clock("2026-11-23T09:40"))
    history = [(h.action, h.to_state.value, f"{h.at:%H:%M}") for h in workflow.history(wages.id)]
    assert history == [
        ("open", "new", "09:00"),
        ("notify", "notified", "09:29"),
        ("escalate", "escalated", "09:30"),
    ]
    workflow.close()
    outbox.close()
    get_env.cache_clear()


def test_the_days_logs_are_filed_and_mailed_to_each_unit_with_copies(
    tmp_path: Path, smtp: SmtpServer, receiver: BotReceiver
) -> None:
    """Each unit gets its own Word log by email, 市委宣传部 and 市政府办 a copy of each (seed 000 第八条)."""
    from io import BytesIO

    from docx import Document

    from tests.helpers import yuqing as command

    env = office_with_channels(tmp_path, smtp, receiver)
    demo(env)
    done = command("log", "--send", "--demo", env={**env, "YUQING_DEMO_DELIVER": "1"})
    assert done.returncode == 0, done.stderr
    assert "份舆情日志" in done.stdout

    def logs_to(unit: str) -> list[tuple[str, bytes, str]]:
        found = []
        for rcpts, mail in smtp.mailbox.messages:
            if ADDRESSES[unit] in rcpts and "【舆情日志】" in str(mail["Subject"]):
                for part in mail.iter_attachments():
                    found.append((str(mail["Subject"]), part.get_payload(decode=True), part.get_filename()))
        return found

    (own,) = logs_to("范县县委宣传部")
    subject, document, name = own
    assert subject == "【舆情日志】11月23日范县县委宣传部政务舆情日志"
    assert name == "范县县委宣传部政务舆情日志-20261123.docx"
    texts = [p.text for p in Document(BytesIO(document)).paragraphs]
    assert "范县县委宣传部政务舆情日志" in texts
    assert "相撞" in "".join(texts)
    copies = [name for _, _, name in logs_to("市委宣传部")]
    assert "范县县委宣传部政务舆情日志-20261123.docx" in copies
    assert "濮阳市政务舆情日志-20261123.docx" in copies  # the office's own log too
    assert sorted(copies) == sorted(name for _, _, name in logs_to("市政府办"))
    # Filed where the office keeps them.
    filed = Path(env["YUQING_DATA_DIR"]) / "demo" / "daily" / "2026-11-23"
    assert (filed / "范县县委宣传部政务舆情日志-20261123.docx").read_bytes() == document
    # Sent once: a second run files them again but mails nothing new.
    before = len(smtp.mailbox.messages)
    assert command("log", "--send", "--demo", env={**env, "YUQING_DEMO_DELIVER": "1"}).returncode == 0
    assert len(smtp.mailbox.messages) == before


def test_the_readme_claims_the_demo_crash_by_the_number_cases_shows(tmp_path: Path) -> None:
    """The README's example claims the 范县 crash by its case number: every demo gives the crash one case,
    named after its first report, whatever order the crawls brought its posts in."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (number,) = set(re.findall(r"^\./yuqing claim ([0-9a-f]{8}) --as 李明 --demo", readme, re.MULTILINE))
    env = office_env(tmp_path / "var", COLUMNS="220")
    run_demo(env)
    shown = run_yuqing("cases", "--demo", env=env).stdout
    rows = [line for line in shown.splitlines() if re.match(r"[0-9a-f]{8} ", line)]
    crashes = [row for row in rows if "重大突发事态" in row and "范县" in row]
    assert len(crashes) == 1, shown
    assert crashes[0].startswith(number), shown
