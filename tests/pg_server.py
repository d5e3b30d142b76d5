"""A real PostgreSQL 16 with pgvector for the tests, from the binaries of the ``pgserver``
wheel: ``initdb`` and ``pg_ctl`` on a temporary folder, TCP on a free loopback port.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs as an
unprivileged system user, from a copy of the binaries it can read (the checkout may sit
in a folder only root can enter).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["PgServer", "free_port"]

_USER = "rag-pg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binaries() -> Path:
    """The wheel's ``pginstall`` folder (found without importing pgserver's own layer)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver wheel is not installed (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


class PgServer:
    """One PostgreSQL cluster in ``root``: start, stop (any mode), start again."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.data = root / "data"
        self.log = root / "server.log"
        self._as: dict[str, Any] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        install = _binaries()
        if os.geteuid() == 0:
            _ensure_user()
            user = pwd.getpwnam(_USER)
            self._as = {"user": user.pw_uid, "group": user.pw_gid}
            os.chmod(root, 0o755)
            # the wheel's layout, so the binaries' rpath ($ORIGIN/../../../pgserver.libs)
            # still finds the libraries it vendors
            copy = root / "site" / "pgserver" / "pginstall"
            if not copy.exists():
                shutil.copytree(install, copy, symlinks=True)
                libs = install.parent.parent / "pgserver.libs"
                if libs.is_dir():
                    shutil.copytree(libs, root / "site" / "pgserver.libs", symlinks=True)
            install = copy
            os.chown(root, user.pw_uid, user.pw_gid)
        self.bin = install / "bin"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the server's binaries as the user the server runs as."""
        return subprocess.run(
            [str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            check=check,
            cwd=self.root,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            **self._as,
        )

    def init(self) -> PgServer:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self, extra: str = "") -> PgServer:
        """Start (again) on this port, as a child of this process (so a SIGKILLed server
        is reaped, not left a zombie holding its lock file); ``extra``: more ``-c
        name=value`` settings. Returns once it accepts connections."""
        import psycopg

        args = [
            str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
            "-c", "fsync=off", *shlex.split(extra),
        ]  # fmt: skip
        for _ in range(50):  # a killed server's backends may hold its memory a moment
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(
                    args, stdout=log, stderr=log, cwd=self.root, **self._as
                )
            while self.proc.poll() is None:
                try:
                    psycopg.connect(self.url, connect_timeout=2).close()
                    return self
                except psycopg.OperationalError:
                    time.sleep(0.05)
            time.sleep(0.2)
        raise RuntimeError(f"postgres did not start:\n{self.read_log()[-3000:]}")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode``: smart, fast, or immediate (no checkpoint: a crash)."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)
        if self.proc is not None:
            self.proc.wait(60)

    def kill(self) -> None:
        """``kill -9`` of the postmaster."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(60)

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def standby(self, root: Path) -> PgServer:
        """A hot standby of this server in ``root`` (``pg_basebackup -R``), not started."""
        standby = PgServer(root)
        shutil.rmtree(standby.data, ignore_errors=True)
        standby.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-D", str(standby.data), "-R", "-X", "stream",
        )  # fmt: skip
        return standby


def _ensure_user() -> None:
    try:
        pwd.getpwnam(_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _USER],
            check=True,
        )


def new_root() -> Path:
    """A folder for a cluster that the server's user may enter."""
    return Path(tempfile.mkdtemp(prefix="rag-pg-"))
