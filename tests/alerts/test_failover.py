"""Two machines sharing one PostgreSQL alerts database: senders running at once share the deliveries and
never make one twice; one killed mid-batch leaves its claims to the other, which delivers the rest."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from alerts.outbox import Outbox
from config.loader import DEFAULT_DIR
from tests.alerts.conftest import NOW, make_alert
from tests.alerts.receiver import BotReceiver
from tests.alerts.test_kill_restart import ALERTS, DUTY, ROOT, UNIT
from tests.helpers import office_env
from tests.services import PostgresServer


def office_with_waiting_alerts(tmp_path: Path, url: str) -> tuple[Path, set[str]]:
    """An office whose alerts go to one webhook, with ALERTS alerts waiting in the database at `url`; the
    config folder and the delivery ids expected."""
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    spec = {
        "channels": [{"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}}],
        "recipients": {UNIT: ["duty-screen"], DUTY: ["duty-screen"]},
    }
    (config / "alerts.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    outbox = Outbox(tmp_path / "unused.sqlite3", url=url)
    for n in range(ALERTS):
        outbox.enqueue(make_alert(n))
    outbox.close()
    return config, {f"event:sina:{n}@复杂敏感事件|{unit}" for n in range(ALERTS) for unit in (UNIT, DUTY)}


def sender(data: Path, config: Path, url: str, receiver: BotReceiver) -> subprocess.Popen[str]:
    """`yuqing deliver` as a machine of its own runs it: nothing shared with the others but the database."""
    env = office_env(
        data,
        YUQING_CONFIG_DIR=str(config),
        YUQING_DB_URL=url,
        YUQING_NOW=NOW.isoformat(),
        YUQING_SCREEN_URL=receiver.webhook_url,
    )
    command = [sys.executable, "-m", "commands.cli", "deliver", "--wait", "0"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_machines_on_one_database_the_standby_sender_delivers_what_the_killed_one_left(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    name = f"failover_{os.getpid()}"
    url = postgres.database(name)
    config, expected = office_with_waiting_alerts(tmp_path, url)

    with BotReceiver(delay=0.15) as receiver:
        leader = sender(tmp_path / "a", config, url, receiver)
        deadline = time.monotonic() + 60
        while len(receiver.of("webhook")) < 8:
            assert leader.poll() is None, "the sender finished before it could be killed"
            assert time.monotonic() < deadline, "the sender never got going"
            time.sleep(0.02)
        standby = sender(
            tmp_path / "b", config, url, receiver
        )  # waits for the sender lock while the leader holds it
        time.sleep(0.5)
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait(10)
        _out, err = standby.communicate(timeout=120)
        assert standby.returncode == 0, err
        time.sleep(0.3)
        received = Counter(r.body["id"] for r in receiver.of("webhook"))

    outbox = Outbox(tmp_path / "unused.sqlite3", url=url)
    try:
        assert outbox.delivery_counts() == {"sent": len(expected)}
    finally:
        outbox.close()
    postgres.drop(name)
    assert set(received) == expected  # every delivery made
    repeated = [key for key, count in received.items() if count > 1]
    assert len(repeated) <= 1  # at most the one on the wire when the leader died; each other exactly once


def test_two_senders_at_once_share_the_deliveries_and_make_each_once(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    name = f"share_{os.getpid()}"
    url = postgres.database(name)
    config, expected = office_with_waiting_alerts(tmp_path, url)

    # Slow enough that the first alone would take seconds longer than the second needs to start.
    with BotReceiver(delay=0.5) as receiver:
        senders = []
        for folder in ("a", "b"):
            deadline = time.monotonic() + 60
            while senders and len(receiver.of("webhook")) < 2:  # the first is sending
                assert time.monotonic() < deadline, "the first sender never got going"
                time.sleep(0.02)
            senders.append(sender(tmp_path / folder, config, url, receiver))
        outputs = [sender.communicate(timeout=120) for sender in senders]
        received = Counter(r.body["id"] for r in receiver.of("webhook"))

    postgres.drop(name)
    assert [sender.returncode for sender in senders] == [0, 0], [err for _out, err in outputs]
    assert received == dict.fromkeys(expected, 1)  # every one, none twice
    counts = [int(re.search(r"送达 (\d+) 次", out).group(1)) for out, _err in outputs]
    assert sum(counts) == len(expected)
    assert min(counts) > 0  # both worked
