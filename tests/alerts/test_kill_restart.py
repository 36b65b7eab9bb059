"""A sender killed with SIGKILL in the middle of a batch: on restart every (alert, unit) delivery arrives
at least once, and none the outbox had recorded as acknowledged arrives twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from alerts.outbox import Outbox
from config.loader import DEFAULT_DIR
from tests.alerts.conftest import NOW, make_alert
from tests.alerts.receiver import BotReceiver

ROOT = Path(__file__).resolve().parents[2]
UNIT, DUTY = "市生态环境局濮阳县分局", "市网信办值班室"
ALERTS = 12
# On the SQLite file and on PostgreSQL, where the sender's lock is a session's and dies with it as well.
pytestmark = pytest.mark.usefixtures("alerts_backend")


def test_a_killed_sender_resends_what_was_not_acknowledged_and_nothing_else(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    spec = {
        "channels": [
            {"name": "console", "type": "console"},
            {"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}},
        ],
        "recipients": {UNIT: ["duty-screen"], DUTY: ["duty-screen"]},
    }
    (config / "alerts.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    path = tmp_path / "alerts.sqlite3"
    outbox = Outbox(path)
    for n in range(ALERTS):
        outbox.enqueue(make_alert(n))
    outbox.close()
    expected = {f"event:sina:{n}@复杂敏感事件|{unit}" for n in range(ALERTS) for unit in (UNIT, DUTY)}

    with BotReceiver(delay=0.15) as receiver:  # a slow receiver, so the kill lands mid-batch
        env = {
            **os.environ,
            "YUQING_CONFIG_DIR": str(config),
            "YUQING_DATA_DIR": str(tmp_path / "var"),
            "YUQING_OUTBOX": str(path),
            "YUQING_NOW": NOW.isoformat(),
            "YUQING_SCREEN_URL": receiver.webhook_url,
        }
        command = [sys.executable, "-m", "commands.cli", "deliver", "--wait", "0"]
        sender = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while len(receiver.of("webhook")) < 8:
            assert sender.poll() is None, "the sender finished before it could be killed"
            assert time.monotonic() < deadline, "the sender never got going"
            time.sleep(0.02)
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait(10)

        outbox = Outbox(path)
        acknowledged = {d.idem_key for d in outbox.deliveries() if d.status == "sent"}
        in_flight = [d.idem_key for d in outbox.deliveries() if d.status == "sending"]
        outbox.close()
        assert 0 < len(acknowledged) < len(expected)
        assert len(in_flight) <= 1

        restarted = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert restarted.returncode == 0, restarted.stderr
        time.sleep(0.3)  # the receiver finishes the request the killed sender left hanging
        received = Counter(r.body["id"] for r in receiver.of("webhook"))

    assert set(received) == expected  # at least once, each
    assert all(received[key] == 1 for key in acknowledged)  # never twice once acknowledged
    repeated = {key for key, count in received.items() if count > 1}
    assert repeated <= set(in_flight)  # only the one on the wire when the sender died
    outbox = Outbox(path)
    assert outbox.delivery_counts() == {"sent": len(expected)}
    outbox.close()
