"""Real services for the tests: an Elasticsearch node, a Redis server and a PostgreSQL server on free
127.0.0.1 ports.

Elasticsearch comes from Maven Central (the small integ-test distribution) and is unpacked once
into `var/services/`; each node gets its own data directory that is deleted when it stops. As root
the node runs as the system user `yuqing-es`, because Elasticsearch refuses to run as root; PostgreSQL
(Debian's package, a fresh cluster in a temporary directory) likewise runs as `yuqing-pg`.
Anything that prevents a service from starting raises `ServiceError` with what to do about it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = PROJECT_ROOT / "var" / "services"

ES_VERSION = "8.19.7"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "yuqing-es"
ES_HEAP = "512m"
ES_START_TIMEOUT = 120.0


class ServiceError(RuntimeError):
    """A service could not be installed or started; the message says why and what to try."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launcher(user: pwd.struct_passwd | None = None) -> list[str]:
    """The prefix that runs a service as `user` and kills it if the test process is killed outright."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if user is not None:
            raise ServiceError("running as root needs `setpriv` (util-linux) to drop to a service user")
        return []
    prefix = [setpriv]
    if user is not None:
        prefix += [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    # Set after the credentials change, which would clear it.
    return [*prefix, "--pdeathsig=SIGKILL", "--"]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} was not written)"
    return "\n".join(text.splitlines()[-lines:])


class _Process:
    """A service process in its own process group, so stopping it also stops what it started."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(
        self,
        cmd: list[str],
        *,
        user: pwd.struct_passwd | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*_launcher(user), *cmd],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        _running.add(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid
        self._signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._group_alive(pgid):
            self.proc.poll()
            time.sleep(0.2)
        if self._group_alive(pgid):
            self._signal_group(pgid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        _running.discard(self)

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)

    def _group_alive(self, pgid: int) -> bool:
        if self.proc is not None:
            self.proc.poll()  # reap the leader, or it stays a zombie in the group forever
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        # Only zombies left counts as gone.
        return any(_is_live_member(pid, pgid) for pid in _pids())


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _is_live_member(pid: int, pgid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    state, group = fields[0], int(fields[2])
    return group == pgid and state != "Z"


_running: set[_Process] = set()


@atexit.register
def _stop_everything() -> None:
    for process in list(_running):
        process.stop(timeout=10)


# -- Elasticsearch ---------------------------------------------------------------------------------


def _m2_repository() -> Path:
    return Path.home() / ".m2" / "repository"


def _m2_zip() -> Path:
    group, artifact, version, ext = ES_ARTIFACT.split(":")
    return _m2_repository().joinpath(*group.split("."), artifact, version, f"{artifact}-{version}.{ext}")


def es_distribution_zip() -> Path:
    """The distribution zip in the local Maven repository, downloaded by `mvn` if it is not there yet."""
    path = _m2_zip()
    if path.is_file():
        return path
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            f"Elasticsearch {ES_VERSION} is not in {path.parent} and `mvn` is not installed to fetch it; "
            "install Maven (apt-get install maven) or run `bash tests/run.sh`, which does"
        )
    # Naming the local repository makes mvn put the zip exactly where this function looks for it.
    cmd = [mvn, "-q", "-B", "dependency:get", f"-Dartifact={ES_ARTIFACT}", "-Dtransitive=false"]
    cmd.append(f"-Dmaven.repo.local={_m2_repository()}")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.is_file():
        raise ServiceError(
            f"`{' '.join(cmd)}` did not leave {path} (exit {done.returncode}):\n"
            + (done.stdout + done.stderr)[-3000:]
        )
    return path


def _extract(zip_path: Path, dest: Path) -> None:
    """Unzip keeping the executable bits, which `zipfile` alone drops."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = archive.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                Path(target).chmod(mode | stat.S_IRUSR | stat.S_IWUSR)


def es_home() -> Path:
    """The unpacked distribution under var/services/, unpacked on first use."""
    home = SERVICES_DIR / f"elasticsearch-{ES_VERSION}"
    if (home / "bin" / "elasticsearch").is_file():
        return home
    zip_path = es_distribution_zip()
    SERVICES_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=SERVICES_DIR))
    try:
        _extract(zip_path, staging)
        unpacked = staging / f"elasticsearch-{ES_VERSION}"
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise ServiceError(f"{zip_path} does not hold elasticsearch-{ES_VERSION}/bin/elasticsearch")
        try:
            unpacked.rename(home)
        except OSError:
            if not (home / "bin" / "elasticsearch").is_file():  # another session won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


def java_home() -> Path:
    for name in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(name)
        if value and (Path(value) / "bin" / "java").is_file():
            return Path(value)
    java = shutil.which("java")
    if java is None:
        raise ServiceError(
            "no Java found for Elasticsearch: install a JRE 17+ (apt-get install default-jre-headless)"
        )
    return Path(java).resolve().parent.parent


def service_user(name: str = ES_USER) -> pwd.struct_passwd | None:
    """The unprivileged user to run a service as when the tests run as root, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise ServiceError(f"running as root and there is no `useradd` to create the user {name}")
    cmd = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
    cmd += ["--shell", "/usr/sbin/nologin", name]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ServiceError(f"could not create the user {name}: {done.stderr.strip()}") from None


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    if path.stat().st_uid == user.pw_uid:
        return
    for root, dirs, files in os.walk(path):
        for name in (root, *(Path(root, n) for n in dirs + files)):
            os.lchown(name, user.pw_uid, user.pw_gid)


def _readable_by(user: pwd.struct_passwd, path: Path) -> bool:
    cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    return subprocess.run([*cmd, "test", "-r", str(path)], check=False).returncode == 0


def _home_for(user: pwd.struct_passwd | None) -> Path:
    home = es_home()
    if user is None:
        return home
    _chown_tree(home, user)
    if _readable_by(user, home / "lib" / f"elasticsearch-{ES_VERSION}.jar"):
        return home
    # A checkout under a private directory (say /root) is out of the service user's reach.
    public = Path(tempfile.gettempdir()) / "yuqing-services" / home.name
    if not (public / "bin" / "elasticsearch").is_file():
        public.parent.mkdir(parents=True, exist_ok=True)
        public.parent.chmod(0o755)
        staging = Path(tempfile.mkdtemp(prefix=".copying-", dir=public.parent))
        shutil.copytree(home, staging / home.name, symlinks=True)
        (staging / home.name).rename(public)
        shutil.rmtree(staging, ignore_errors=True)
    _chown_tree(public, user)
    return public


class EsNode:
    """One single-node Elasticsearch cluster. `stop()` and `start()` keep its ports and its data."""

    def __init__(self, *, heap: str = ES_HEAP) -> None:
        self.user = service_user()
        self.home = _home_for(self.user)
        self.java_home = java_home()
        self.heap = heap
        self.http_port = free_port()
        self.transport_port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="yuqing-es-"))
        self.config_dir = self.workdir / "config"
        self.log_path = self.workdir / "console.log"
        self._process = _Process("elasticsearch", self.log_path)
        self.started_in: float | None = None  # seconds the last start took, for the curious
        self._configure()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _configure(self) -> None:
        shutil.copytree(self.home / "config", self.config_dir)
        for name in ("data", "logs", "tmp"):
            (self.workdir / name).mkdir()
        settings = {
            "cluster.name": "yuqing-test",
            "node.name": "yuqing-test-node",
            "network.host": "127.0.0.1",
            "http.port": self.http_port,
            "transport.port": self.transport_port,
            "discovery.type": "single-node",
            "path.data": self.workdir / "data",
            "path.logs": self.workdir / "logs",
            "xpack.security.enabled": "false",
            # A nearly full CI disk must not turn the test indices read-only.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
        }
        (self.config_dir / "elasticsearch.yml").write_text(
            "".join(f"{key}: {value}\n" for key, value in settings.items()), encoding="utf-8"
        )
        if self.user is not None:
            self.workdir.chmod(0o755)
            _chown_tree(self.workdir, self.user)

    def start(self, timeout: float = ES_START_TIMEOUT) -> None:
        if self._process.alive:
            return
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(self.java_home),
            "ES_PATH_CONF": str(self.config_dir),
            "ES_TMPDIR": str(self.workdir / "tmp"),
            # Small heap, and no JIT warm-up spent on a node that lives for one test session.
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap} -XX:TieredStopAtLevel=1 -XX:-AlwaysPreTouch",
        }
        if self.user is not None:
            env["HOME"] = str(self.workdir)
        started = time.monotonic()
        self._process.spawn(
            [str(self.home / "bin" / "elasticsearch")], user=self.user, env=env, cwd=self.workdir
        )
        try:
            self._wait_healthy(started + timeout)
        except BaseException:
            self._process.stop(timeout=10)
            raise
        self.started_in = time.monotonic() - started

    def _wait_healthy(self, deadline: float) -> None:
        health = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
        while True:
            if not self._process.alive:
                raise ServiceError(
                    f"Elasticsearch exited during start-up; last lines of {self.log_path}:\n"
                    + _tail(self.log_path)
                )
            try:
                with urllib.request.urlopen(health, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"Elasticsearch at {self.url} was not healthy (yellow) within {ES_START_TIMEOUT:.0f}s;"
                    f" last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        self._process.stop()

    def close(self) -> None:
        """Stop the node for good and delete its data."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process.alive


# -- Redis -----------------------------------------------------------------------------------------


class RedisServer:
    """A throw-away redis-server: no RDB snapshots, no append-only file, data in a temp directory."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(
                "redis-server is not installed: apt-get install redis-server (tests/run.sh does)"
            )
        self.binary = binary
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="yuqing-redis-"))
        self.log_path = self.workdir / "redis.log"
        self._process = _Process("redis", self.log_path)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        cmd = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.workdir)]
        cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
        self._process.spawn(cmd, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while not self.ping():
            if not self._process.alive or time.monotonic() > deadline:
                self._process.stop(timeout=5)
                raise ServiceError(
                    f"redis-server on port {self.port} did not answer PING;"
                    f" last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def close(self) -> None:
        self._process.stop(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


# -- PostgreSQL ------------------------------------------------------------------------------------

PG_USER = "yuqing-pg"


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries Debian's packages installed (/usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ServiceError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install postgresql (tests/run.sh does)"
        )
    return found[-1].parent


class PostgresServer:
    """A throw-away PostgreSQL cluster: initdb in a temporary directory, trust logins on 127.0.0.1 only,
    no fsync. `database()` makes an empty database for one test."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.user = service_user(PG_USER)
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="yuqing-pg-"))
        self.data = self.workdir / "data"
        self.log_path = self.workdir / "postgres.log"
        self._process = _Process("postgres", self.log_path)
        if self.user is not None:
            self.workdir.chmod(0o755)
            _chown_tree(self.workdir, self.user)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        initdb += ["-E", "UTF8", "--locale=C", "--no-sync"]
        done = subprocess.run(
            [*_launcher(self.user), *initdb], capture_output=True, text=True, check=False, cwd=self.workdir
        )
        if done.returncode != 0:
            raise ServiceError(
                f"initdb failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )
        cmd = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.workdir),
        ]
        cmd += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]
        self._process.spawn(cmd, user=self.user, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if not self._process.alive or time.monotonic() > deadline:
                self._process.stop(timeout=5)
                raise ServiceError(
                    f"PostgreSQL on port {self.port} did not accept connections;"
                    f" last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.2)

    def ready(self) -> bool:
        done = subprocess.run(
            [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            check=False,
        )
        return done.returncode == 0

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(statement)

    def database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate(self, application_name: str) -> None:
        """End the sessions a client opened under that name, as a broken network would."""
        self._admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{application_name}'"
        )

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._process.stop(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)
