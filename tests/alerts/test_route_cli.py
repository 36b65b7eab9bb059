"""`yuqing route`: JSON lines of posts in, one JSON line out each saying who would receive the item, on
which channels, and by when each must act, so an office can check its rules (seed 000 三; 附件2 第六条)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.cli import app
from config.env import get_env
from config.loader import DEFAULT_DIR

ALERTS_YAML = """
min_level: 社会热点问题
channels:
  - name: console
    type: console
  - name: office-mail
    type: email
    options:
      host: 127.0.0.1
      security: none
      from: yuqing@example.gov.cn
      to:
        范县县委宣传部: [xcb@fanxian.example.gov.cn]
  - name: duty-dingtalk
    type: dingtalk
    options:
      url_env: YUQING_DINGTALK_URL
recipients:
  范县县委宣传部: [office-mail, duty-dingtalk]
  市网信办值班室: [duty-dingtalk]
"""

ITEMS = {
    "crash": {
        "title": "范县一货车与面包车相撞致3死2伤",
        "text": "11月23日7时50分许，范县濮城镇S209省道上一辆货车与面包车相撞，造成3人死亡2人受伤。",
    },
    "wages": {
        "text": "清丰县城东一个工地，60多个农民工干了半年活，工资一分没拿到，包工头跑路，农民工聚集讨薪。"
    },
    "river": {"text": "濮阳县柳屯镇一化工厂夜间向河道偷排废水，河水发黑发臭，村民投诉无人管。"},
    "flood": {"text": "范县和台前县沿黄滩区出现漫滩险情，群众正在转移，水利部门紧急加固堤防。"},
    "elsewhere": {"text": "北京今天举行马拉松比赛，数万名选手参加。"},
    "spam": {"title": "今晚香港开什么码", "text": "六合彩特码资料大全，加微信领取"},
}


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    office = tmp_path_factory.mktemp("office")
    shutil.copytree(
        DEFAULT_DIR, office, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    (office / "alerts.yaml").write_text(ALERTS_YAML, encoding="utf-8")
    lines = [json.dumps(item, ensure_ascii=False) for item in ITEMS.values()] + ["{broken", "[1]"]
    get_env.cache_clear()
    result = CliRunner().invoke(
        app,
        ["route"],
        input="\n".join(lines) + "\n",
        env={
            "YUQING_CONFIG_DIR": str(office),
            "YUQING_NOW": "2026-11-23T22:30:00+08:00",
            # An outbox of its own: silences on record elsewhere must not change what this test sees.
            "YUQING_OUTBOX": str(office / "alerts.sqlite3"),
        },
    )
    get_env.cache_clear()
    assert result.exit_code == 0, result.output
    outs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["line"] for o in outs] == list(range(1, len(lines) + 1))
    return {**dict(zip(ITEMS, outs, strict=False)), "broken": outs[-2], "array": outs[-1]}


def recipient(out: dict, unit: str) -> dict:
    return next(r for r in out["recipients"] if r["unit"] == unit)


def test_a_major_emergency_reaches_the_county_the_leader_and_duty_staff_with_its_deadlines(routed) -> None:
    out = routed["crash"]
    assert (out["level"], out["alert"], out["counties"]) == ("重大突发事态", True, ["范县"])
    assert recipient(out, "范县交通运输局")["roles"] == ["first"]
    assert recipient(out, "范县县委宣传部") == {
        "unit": "范县县委宣传部",
        "roles": ["claim", "coordinate"],
        "channels": ["office-mail", "duty-dingtalk"],
    }
    assert "coordinate" in recipient(out, "市政府主要负责同志")["roles"]
    assert "inform" in recipient(out, "市委")["roles"]
    assert recipient(out, "市网信办值班室")["channels"] == ["duty-dingtalk"]
    deliveries = {d["recipient"]: d["channels"] for d in out["deliveries"]}
    assert deliveries["范县县委宣传部"] == ["office-mail", "duty-dingtalk"]
    assert deliveries["控制台"] == ["console"]  # units without channels of their own: the duty console
    # At 22:30 the first release is due at 23:30, so the claim cannot wait for the 08:30 patrol.
    assert out["deadlines"] == {
        "认领": "2026-11-23T23:30:00+08:00",
        "首次发布": "2026-11-23T23:30:00+08:00",
        "新闻发布会": "2026-11-24T22:30:00+08:00",
    }


def test_one_county_item_is_claimed_by_its_propaganda_and_office_by_the_morning_patrol(routed) -> None:
    out = routed["wages"]
    assert out["alert"] is True
    assert out["responsible"]["first"] == ["清丰县人力资源和社会保障局"]
    assert out["responsible"]["claim"] == ["清丰县委宣传部", "清丰县政府办"]
    # Night duty ends at 24:00: an item at 22:30 is claimed at the first patrol of the next morning.
    assert out["deadlines"] == {"认领": "2026-11-24T08:30:00+08:00", "回应": "2026-11-25T22:30:00+08:00"}


def test_a_vertically_managed_department_is_coordinated_by_its_upper_office(routed) -> None:
    out = routed["river"]
    assert out["responsible"]["first"] == ["市生态环境局濮阳县分局"]
    assert "市生态环境局办公室" in out["responsible"]["coordinate"]


def test_items_that_do_not_alert_say_why_and_reach_no_one(routed) -> None:
    assert routed["flood"]["responsible"]["claim"] == ["市委宣传部", "市政府办"]  # several counties
    for name, reason in (("elsewhere", "not_local"), ("spam", "spam")):
        out = routed[name]
        assert (out["alert"], out["not_alerted_because"]) == (False, reason)
        assert (out["recipients"], out["deliveries"], out["deadlines"]) == ([], [], {})
    assert routed["elsewhere"]["responsible"]["inform"] == ["市网信办值班室"]


def test_bad_lines_are_named_and_the_rest_still_routed(routed) -> None:
    assert routed["broken"]["error"].startswith("第 7 行：不是有效的 JSON")
    assert routed["array"]["error"] == "第 8 行：应为一个 JSON 对象（{...}），收到列表（1 项）"


def test_an_office_with_a_broken_alerts_file_is_told_where(tmp_path: Path) -> None:
    shutil.copytree(
        DEFAULT_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    (tmp_path / "alerts.yaml").write_text(
        ALERTS_YAML.replace("[office-mail, duty", "[office-fax, duty"), "utf-8"
    )
    result = CliRunner().invoke(app, ["route"], input="{}\n", env={"YUQING_CONFIG_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "alerts.yaml" in result.output
    assert "没有名为“office-fax”的渠道" in result.output


def test_route_says_which_silence_would_hold_an_item_back_and_which_it_may_not(tmp_path: Path) -> None:
    from alerts.outbox import Outbox

    outbox_path = tmp_path / "alerts.sqlite3"
    outbox = Outbox(outbox_path)
    now = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
    outbox.add_silence("范县", now + timedelta(hours=4), "已处置，跟踪中", "张三", now)
    outbox.close()
    water = {
        "text": "范县一小区连续停水三天，上千户居民生活受影响，业主多次投诉没人管，记者调查发现供水公司与物业相互推诿。",
        "counts": {"comments": 800},
    }
    lines = [json.dumps(item, ensure_ascii=False) for item in (water, ITEMS["crash"], ITEMS["wages"])]
    get_env.cache_clear()  # the environment is read once per process; this test brings its own outbox
    try:
        result = CliRunner().invoke(
            app,
            ["route"],
            input="\n".join(lines) + "\n",
            env={"YUQING_OUTBOX": str(outbox_path), "YUQING_NOW": now.isoformat()},
        )
    finally:
        get_env.cache_clear()
    assert result.exit_code == 0, result.output
    held, crash, wages = (json.loads(line) for line in result.stdout.splitlines())
    assert (held["level"], held["counties"], held["silenced"]) == ("社会热点问题", ["范县"], 1)
    assert held["silence_note"] == (
        "静默 #1（范县，至 2026-11-23 13:00）暂缓：不发送、不立案、不计时；静默结束后补发，时限自补发时起算"
    )
    assert (held["deliveries"], held["deadlines"]) == ([], {})  # nothing goes out, no clock starts
    assert (crash["level"], crash["silenced"]) == ("重大突发事态", None)
    assert crash["silence_note"] == "静默 #1 不适用于重大突发事态，照常发送（范县）"
    assert list(crash["deadlines"]) == ["认领", "首次发布", "新闻发布会"]
    assert (wages["silenced"], wages["silence_note"]) == (None, None)  # 清丰县: no silence concerns it
