"""The compiled analysis (classifiers/native.py): the test command builds it, the commands run it, and it
answers exactly as the Python modules do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from classifiers import native
from tests.helpers import PROJECT_ROOT, office_env, yuqing

# Where each compiled module was loaded from, in a fresh process of the commands' interpreter.
_WHERE = """
import importlib, json, sys
sys.stdout.write(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))
"""


def _dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def _loaded_from(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _WHERE, *map(_dotted, native.MODULES)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


# Texts where a compiled string operation could part from CPython's: Greek final sigma and Turkish dotted
# capitals (lower-casing), full-width and other digits, emoji, lone surrogates, mixed scripts and markup.
_AWKWARD = [
    "ΟΔΟΣ ΑΣ 濮阳县交通事故 ΣΑΣ",
    "İSTANBUL 游客在南乐县 İİ 吵架",
    "１２３人聚集，٣٤ 人受伤，Ⅻ 号楼坍塌",
    "😡😡 范县化工厂爆炸了 👍🏽 [怒][怒] //@某人: 转发微博",
    "\ud83d 半个表情 \udc00 后面",
    "ＰＭ２.５ 爆表，Ｃｏｖｉｄ 又来了 #濮阳疫情# http://t.cn/abc",
    "ǅungla ǈ ß ﬁ ẞ 濮阳市清丰县拖欠工资",
]


def _lines() -> str:
    """Every labelled post of tests/data as an `analyze` line, with the fields a crawl would give, and the
    awkward texts above."""
    kept = ("text", "title", "source", "author", "published_at", "ip_location", "location", "counts")
    lines = [json.dumps({"text": text}) for text in _AWKWARD]  # \u escapes: lone surrogates stay JSON
    for path in sorted((PROJECT_ROOT / "tests" / "data").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                post = json.loads(line)
                lines.append(json.dumps({k: v for k, v in post.items() if k in kept}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def test_the_commands_run_the_compiled_modules_of_the_present_sources(tmp_path: Path) -> None:
    place = native.built()
    assert place is not None, "分析模块未编译：运行 .venv/bin/python -m commands.native，看它说的原因"
    loaded = _loaded_from(office_env(tmp_path / "var"))
    for module, where in loaded.items():
        assert Path(where).is_relative_to(place), (module, where)
        assert where.endswith(".so"), (module, where)


def test_compiled_and_python_analysis_give_the_same_lines(tmp_path: Path) -> None:
    lines = _lines()
    assert lines.count("\n") > 1000
    outputs = {}
    for setting in ("1", "0"):
        env = office_env(tmp_path / "var", YUQING_NATIVE=setting)
        if setting == "0":
            assert not any(where.endswith(".so") for where in _loaded_from(env).values())
        done = yuqing("analyze", env={**env, "PYTHONHASHSEED": "7"}, input=lines)
        assert done.returncode == 0, done.stderr
        outputs[setting] = done.stdout
    assert outputs["1"].count("\n") == lines.count("\n")
    assert outputs["1"] == outputs["0"]


def test_an_edited_module_has_another_key_so_no_stale_build_runs_it(tmp_path: Path) -> None:
    for module in native.MODULES:
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / module, tmp_path / module)
    assert native.key_of(tmp_path) == native.key()
    edited = tmp_path / "classifiers" / "severity.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# 改过\n", encoding="utf-8")
    assert native.key_of(tmp_path) != native.key()


def test_doctor_says_whether_the_analysis_runs_compiled(tmp_path: Path) -> None:
    done = yuqing("doctor", "--json", env=office_env(tmp_path / "var", YUQING_NATIVE="0"))
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["分析模块"]["status"] == "warn"  # slower, never wrong: not a failure
    assert "解释方式" in checks["分析模块"]["detail"]
    compiled, said = native.status()
    assert compiled, said
    assert said.startswith("已编译")
