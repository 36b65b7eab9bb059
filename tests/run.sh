#!/usr/bin/env bash
# The one test command (README, CI): system packages, the virtualenv, ruff, the import contracts, mypy,
# then every test against real services. Safe to run again and again; it only installs what is missing.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -x -k store`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
    echo "tests/run.sh: $*" >&2
    exit 1
}
step() { echo "==> $*"; }

# -- Python >= 3.11 -----------------------------------------------------------------------------

find_python() {
    local candidate
    for candidate in ${PYTHON_FOR_VENV:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}
PYTHON=$(find_python)

# -- system packages ----------------------------------------------------------------------------

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)  # the alerts database's second home
command -v chromium >/dev/null || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-writer-nogui)  # the records as PDF
command -v pdffonts >/dev/null || missing+=(poppler-utils)            # the tests read those PDFs back
if command -v dpkg >/dev/null; then
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
fi
command -v java >/dev/null || missing+=(default-jre-headless)   # runs the Elasticsearch test node
command -v mvn >/dev/null || missing+=(maven)                    # fetches it from Maven Central
if [[ -z $PYTHON ]]; then
    missing+=(python3 python3-venv)
elif [[ ! -x .venv/bin/python ]] && ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi

if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and there is no apt-get to install them"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || die "missing ${missing[*]}: run as root or install sudo"
        sudo=(sudo -n)
    fi
    step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
fi

[[ -n $PYTHON ]] || PYTHON=$(find_python)
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
[[ ${java_major:-0} -ge 17 ]] || die "Elasticsearch needs Java 17 or newer, found '${java_major:-none}'"

# -- the virtualenv -----------------------------------------------------------------------------

if [[ ! -e .venv ]]; then
    [[ -n $PYTHON ]] || die "no Python 3.11+ found (set PYTHON_FOR_VENV to one)"
    step "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv || die "could not create .venv with $PYTHON"
fi
.venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die ".venv is broken or older than Python 3.11; delete it and run again"

stamp=.venv/.yuqing-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    step "installing the project and its test tools into .venv"
    log=$(mktemp)
    if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" >"$log" 2>&1; then
        cat "$log" >&2
        die "pip install -e .[test] failed"
    fi
    rm -f "$log"
    echo "$wanted" >"$stamp"
fi

# The analysis modules, compiled (classifiers/native.py); without a C compiler they run as Python and
# tests/classifiers/test_native.py fails, saying so.
step "compiling the analysis modules"
.venv/bin/python -m commands.native || true

# The console's browser libraries come from the npm registry, checked against console/assets.py.
if ! .venv/bin/python -c 'import sys, console.assets as a; sys.exit(bool(a.missing()))'; then
    step "fetching the console's browser libraries"
    .venv/bin/python -m console.assets || die "could not fetch the console's browser libraries"
fi

# -- checks ---------------------------------------------------------------------------------------

step "ruff check"
.venv/bin/ruff check . || die "ruff check failed (try .venv/bin/ruff check --fix .)"
step "ruff format --check"
.venv/bin/ruff format --check . || die "ruff format --check failed (run .venv/bin/ruff format .)"
step "lint-imports"
.venv/bin/lint-imports --no-cache --no-logo || die "an import runs against the data flow (contracts in pyproject.toml)"
step "mypy"
.venv/bin/mypy || die "mypy found type errors (strict for classifiers/ and alerts/, settings in pyproject.toml)"
step "pytest $*"
exec .venv/bin/pytest "$@"
