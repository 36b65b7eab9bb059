"""The keyword rules, versioned in the alerts database: `yuqing rules import` checks a whole file before
anything changes and saves it as the version in force, which every command and the next patrol read (serve
without a restart); `export` gives it back; `restore` brings an old version back as a new one; only analysts
and administrators change rules, and each change is on the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

from alerts.accounts import Role
from alerts.outbox import Outbox
from commands.config_watch import ConfigWatch
from config.env import Env
from config.loader import DEFAULT_DIR
from tests.helpers import yuqing

SHIPPED = (DEFAULT_DIR / "rules.yaml").read_text(encoding="utf-8")
NEW_RULE = """
  - id: wage-sit-in-test
    name: 讨薪静坐（试用）
    category: 群体性事件
    weight: 7
    expr: '讨薪 静坐 塔吊'
"""
TEXT = "清丰县一工地几十名工人爬上塔吊讨薪，还有人在县政府门口静坐"


def accounts(env: dict[str, str]) -> None:
    for name, role, extra in (
        ("管理员", Role.ADMIN, []),
        ("王芳", Role.ANALYST, ["--as", "管理员"]),
        ("李明", Role.UNIT, ["--unit", "范县县委宣传部", "--as", "管理员"]),
    ):
        done = yuqing("user", "add", name, "--role", role.value, *extra, env=env)
        assert done.returncode == 0, done.stderr


def rule_ids(env: dict[str, str]) -> list[str]:
    done = yuqing("analyze", env=env, input=json.dumps({"text": TEXT}, ensure_ascii=False) + "\n")
    assert done.returncode == 0, done.stderr
    return [rule["id"] for rule in json.loads(done.stdout)["rules"]]


def test_an_imported_file_is_the_version_in_force_for_every_command(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    accounts(data_env)
    assert "wage-sit-in-test" not in rule_ids(data_env)
    edited = tmp_path / "rules.yaml"
    edited.write_text(SHIPPED + NEW_RULE, encoding="utf-8")

    done = yuqing("rules", "import", str(edited), "--reason", "新增讨薪静坐", "--as", "王芳", env=data_env)
    assert done.returncode == 0, done.stderr
    assert "已保存为第 1 版" in done.stdout
    assert "wage-sit-in-test" in rule_ids(data_env)
    exported = yuqing("rules", "export", env=data_env)
    assert exported.stdout == SHIPPED + NEW_RULE
    listed = yuqing("rules", "versions", env=data_env).stdout
    assert "王芳" in listed
    assert "新增讨薪静坐" in listed
    shown = yuqing("rules", "show", "1", env=data_env).stdout
    assert "wage-sit-in-test" in shown
    assert "新增" in shown


def test_a_file_with_one_bad_rule_changes_nothing_and_says_where(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    accounts(data_env)
    good = tmp_path / "good.yaml"
    good.write_text(SHIPPED + NEW_RULE, encoding="utf-8")
    assert (
        yuqing("rules", "import", str(good), "--reason", "一", "--as", "王芳", env=data_env).returncode == 0
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        SHIPPED + NEW_RULE.replace("'讨薪 静坐 塔吊'", "'讨薪 (静坐 塔吊'").replace("test", "t2"),
        encoding="utf-8",
    )

    done = yuqing("rules", "import", str(broken), "--reason", "二", "--as", "王芳", env=data_env)
    assert done.returncode == 2
    assert f"{broken}:" in done.stderr
    assert "规则 wage-sit-in-t2" in done.stderr
    assert "左括号 ( 没有对应的右括号 )" in done.stderr
    assert "规则未作任何改动" in done.stderr
    assert yuqing("rules", "export", env=data_env).stdout == SHIPPED + NEW_RULE
    assert "wage-sit-in-test" in rule_ids(data_env)


def test_only_analysts_and_administrators_change_rules_and_each_change_is_audited(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    accounts(data_env)
    edited = tmp_path / "rules.yaml"
    edited.write_text(SHIPPED + NEW_RULE, encoding="utf-8")
    refused = yuqing("rules", "import", str(edited), "--reason", "试", "--as", "李明", env=data_env)
    assert refused.returncode != 0
    assert "须由分析员或管理员账号操作" in refused.stderr
    no_reason = yuqing("rules", "import", str(edited), "--reason", " ", "--as", "王芳", env=data_env)
    assert "请写明修改原因" in no_reason.stderr
    assert (
        yuqing("rules", "import", str(edited), "--reason", "新增", "--as", "王芳", env=data_env).returncode
        == 0
    )
    restored = yuqing("rules", "restore", "1", "--as", "管理员", env=data_env)
    assert "与现行规则完全相同" in restored.stderr

    outbox = Outbox(Path(data_env["YUQING_DATA_DIR"]) / "alerts.sqlite3")
    trail = [(e.account, e.action, e.outcome) for e in outbox_trail(outbox)]
    outbox.close()
    assert ("李明", "rules_save", "refused") in trail
    assert ("王芳", "rules_save", "done") in trail


def outbox_trail(outbox: Outbox) -> list:
    from alerts.workflow import Workflow
    from config.loader import load_config
    from pipeline import clock

    return Workflow(outbox, load_config(), clock.now).accounts.audit_trail()


def test_restoring_an_old_version_saves_it_again_as_the_newest(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    accounts(data_env)
    first, second = tmp_path / "1.yaml", tmp_path / "2.yaml"
    first.write_text(SHIPPED + NEW_RULE, encoding="utf-8")
    second.write_text(SHIPPED, encoding="utf-8")
    for path, why in ((first, "试用"), (second, "撤下")):
        assert (
            yuqing("rules", "import", str(path), "--reason", why, "--as", "王芳", env=data_env).returncode
            == 0
        )
    assert "wage-sit-in-test" not in rule_ids(data_env)

    done = yuqing("rules", "restore", "1", "--reason", "误撤，恢复", "--as", "王芳", env=data_env)
    assert done.returncode == 0, done.stderr
    assert "已把第 1 版恢复为第 3 版" in done.stdout
    assert "wage-sit-in-test" in rule_ids(data_env)
    assert "恢复自第 1 版" in yuqing("rules", "versions", env=data_env).stdout
    assert yuqing("rules", "export", "--version", "2", env=data_env).stdout == SHIPPED


def test_serve_takes_a_saved_version_up_at_its_next_job_without_a_restart(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    accounts(data_env)
    env = Env(YUQING_DATA_DIR=Path(data_env["YUQING_DATA_DIR"]), ES_URL=None)
    watch = ConfigWatch(env, DEFAULT_DIR)
    office = watch.startup()
    before = watch.check(office)
    assert before.folder is not None
    assert "wage-sit-in-test" not in (before.folder / "rules.yaml").read_text(encoding="utf-8")

    edited = tmp_path / "rules.yaml"
    edited.write_text(SHIPPED + NEW_RULE, encoding="utf-8")
    assert (
        yuqing("rules", "import", str(edited), "--reason", "新增", "--as", "王芳", env=data_env).returncode
        == 0
    )
    after = watch.check(before.office)
    assert after.folder is not None
    assert after.folder != before.folder
    assert [r.id for r in after.office.rules.rules][-1] == "wage-sit-in-test"
    assert (after.folder / "rules.yaml").read_text(encoding="utf-8") == SHIPPED + NEW_RULE
