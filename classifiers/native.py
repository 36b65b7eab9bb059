"""The compiled path of the analysis: the modules every post goes through, compiled by mypyc (mypy's
compiler for typed Python) into C extensions. They give the same answers as the Python modules, in about
four fifths of the time (benchmarks/analyze.py prints both).

`python -m commands.native` builds them into `<virtualenv>/yuqing-native/<key>/`. The installer
(`./yuqing`) and the test command run it. Without a C compiler the build fails with the reason, and the
analysis runs as Python, as before.

The key is a digest of the compiled modules' sources, this recipe and the Python version. Each package of the analysis
calls `attach` from its `__init__`, which puts the build of the sources as they are now first in the
package's path. A module edited since the last build has another key, so it runs as Python until the next
build, never from a stale one. `YUQING_NATIVE=0` keeps a process on Python (the equivalence test compares
the two).

This module is never compiled itself: it must run before any compiled module is found."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(sys.prefix) / "yuqing-native"
# Touched after every build, check or failed build: `./yuqing` builds again when a source is newer.
STAMP = HOME / ".built"
KEPT = 4  # builds kept, newest first
GROUP = "yuqing_native"  # the shared library the compiled modules live in: yuqing_native__mypyc

# Every stage a post passes in `analyze` and in a patrol, with the classifiers they call, the routing rules,
# and the runner that reads `analyze`'s lines and takes them through the stages. Stay Python:
# - classifiers/types.py and pipeline/items.py, the records a post carries: orjson writes them by reading
#   a dataclass's memory as CPython lays it out, which a compiled class does not (it crashed the process);
# - pipeline/stages/base.py: the stages that stay Python derive from its classes, and a Python class
#   cannot derive from a compiled one not marked `allow_interpreted_subclasses`;
# - modules that read their own location (`__file__`), or use what mypyc cannot compile (pydantic models).
MODULES = (
    "alerts/routing.py",
    "classifiers/departments.py",
    "classifiers/events.py",
    "classifiers/rules.py",
    "classifiers/sentiment.py",
    "classifiers/sentiment_lexicon.py",
    "classifiers/sentiment_trained.py",
    "classifiers/severity.py",
    "classifiers/spam.py",
    "classifiers/spikes.py",
    "classifiers/territory.py",
    "classifiers/text.py",
    "classifiers/tokenise.py",
    "pipeline/events.py",
    "pipeline/runner.py",
    "pipeline/stages/classify.py",
    "pipeline/stages/clean.py",
    "pipeline/stages/event.py",
    "pipeline/stages/locate.py",
    "pipeline/stages/route.py",
    "pipeline/stages/steps.py",
    "pipeline/stages/tokenise.py",
)


# CPython's own `str.lower`, called as an object: compiled, `text.lower()` becomes mypyc's version, which
# lower-cases a Greek final Σ to σ where CPython gives ς. The compiled modules call this one instead.
lower = str.lower


class BuildError(RuntimeError):
    """The modules could not be compiled; the message says why, in Chinese."""


@functools.cache
def key() -> str:
    """A digest of what the build is made of: the Python version, this recipe and every compiled module's
    source, as this process first read them."""
    return key_of(ROOT)


def key_of(root: Path) -> str:
    """The key of the sources in the repository at `root`, read now."""
    # This file too: it says how the build is laid out.
    digest = hashlib.sha256(f"{sys.version}\0{sys.platform}\0".encode() + Path(__file__).read_bytes())
    for module in MODULES:
        digest.update(module.encode() + b"\0" + (root / module).read_bytes() + b"\0")
    return digest.hexdigest()[:24]


@functools.cache
def built() -> Path | None:
    """The finished build of the sources as they are now, or None (not built, built from other sources,
    or turned off with YUQING_NATIVE=0)."""
    if os.environ.get("YUQING_NATIVE", "1") == "0":
        return None
    try:
        place = HOME / key()
    except OSError:  # a module unreadable: the import that needs it will say so
        return None
    if not _finished(place):
        return None
    # The shared library, a top-level module of its own name, sits alone in its folder: the build's own
    # top folder on the path would make its `pipeline/` a package of that name, without the sources.
    if (shared := str(place / "shared")) not in sys.path:
        sys.path.append(shared)
    return place


def attach(path: list[str], package: str) -> None:
    """Called by a package's `__init__` with its `__path__`: its compiled modules, when built from the
    present sources, are found before its Python ones (the others stay Python)."""
    place = built()
    if place is not None:
        path.insert(0, str(place.joinpath(*package.split("."))))


def status() -> tuple[bool, str]:
    """Whether the analysis runs compiled, and a sentence saying so for `yuqing doctor`."""
    if os.environ.get("YUQING_NATIVE", "1") == "0":
        return False, "未用编译模块（YUQING_NATIVE=0）：分析以解释方式运行，结果相同，约慢三成"
    if built() is not None:
        return True, f"已编译，{len(MODULES)} 个模块"
    return False, (
        "未编译或源码已改动：分析以解释方式运行，结果相同，约慢三成；"
        "运行 .venv/bin/python -m commands.native 编译，失败时它会说明原因"
    )


def build() -> Path:
    """Compiles MODULES unless a build of the present sources exists; returns its folder. The compiler's
    output goes to a log, shown only when it fails."""
    place = HOME / key()
    if _finished(place):
        return place
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise BuildError(f"未找到 C 编译器 {compiler}（Debian 上可 apt-get install gcc）")
    HOME.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{place.name}.", dir=HOME))
    try:
        with tempfile.TemporaryDirectory() as work:
            done = subprocess.run(
                [sys.executable, "-c", _COMPILE, work, str(partial), *MODULES],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0:
            lines = done.stdout.decode("utf-8", "replace").splitlines()
            shown = [line for line in lines if "warning: Treating generator" not in line][-20:]
            raise BuildError("编译失败：\n" + "\n".join(shown))
        (partial / "shared").mkdir()
        for library in partial.glob(f"{GROUP}__mypyc.*"):
            library.rename(partial / "shared" / library.name)
        (partial / "DONE").write_text(key() + "\n", encoding="utf-8")
        if place.is_dir() and not _finished(place):
            shutil.rmtree(place)  # a build of these sources cut short
        try:
            partial.rename(place)
        except OSError:
            if not _finished(place):  # not a build finished by another process meanwhile
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    # Builds of earlier sources: the newest few are kept, for another checkout sharing this virtualenv.
    builds = sorted((p for p in HOME.iterdir() if p.is_dir() and "." not in p.name), key=_age)
    for old in builds[KEPT:]:
        if old != place:
            shutil.rmtree(old, ignore_errors=True)
    return place


def _finished(place: Path) -> bool:
    """Whether the build folder is whole: its DONE file is written last."""
    return (place / "DONE").is_file()


def _age(place: Path) -> float:
    return -place.stat().st_mtime


# Run in a child process from the repository root, so that mypy finds the modules by their paths and the
# compiler's output can be kept from the terminal. mypy reads no project settings here (those are for
# checking, and a note on an unused one fails the build).
_COMPILE = f"""
import sys
from pathlib import Path
from mypyc.build import mypycify
from setuptools import Distribution
work, out, modules = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
config = work / "mypy.ini"
config.write_text("[mypy]\\nignore_missing_imports = True\\n")
extensions = mypycify(
    ["--config-file", str(config), *modules], opt_level="3", target_dir=str(work / "c"), group_name="{GROUP}"
)
command = ["build_ext", "--build-lib", out, "--build-temp", str(work / "o")]
dist = Distribution({{"name": "{GROUP}", "ext_modules": extensions, "script_name": "build", "script_args": command}})
dist.parse_command_line()
dist.run_commands()
"""


def main() -> int:
    """`python -m commands.native`: build if needed; 0 when a build of the present sources exists. Silent
    when one does already (`./yuqing` asks after any change to the packages' sources)."""
    if _finished(HOME / key()):
        _stamp()
        return 0
    sys.stderr.write("正在编译分析模块（约需半分钟）…\n")
    sys.stderr.flush()
    try:
        place = build()
    except (BuildError, OSError) as exc:
        sys.stderr.write(f"分析模块未能编译，分析以解释方式运行（结果相同，较慢）。原因：{exc}\n")
        _stamp()  # tried: `./yuqing` tries again only once the sources change
        return 1
    _stamp()
    sys.stderr.write(f"分析模块已编译：{place}\n")
    return 0


def _stamp() -> None:
    try:
        HOME.mkdir(parents=True, exist_ok=True)
        STAMP.touch()
    except OSError:
        pass  # a read-only virtualenv: the next run tries again
