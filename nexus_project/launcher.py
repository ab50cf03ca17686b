"""`make run`: the whole product on one machine, on embedded defaults.

Starts the embedded PostgreSQL and Redis (unless `DATABASE_URL` / `REDIS_URL` are set), migrates
every schema, onboards the example tenants not onboarded yet, with development logins, starts the
ASGI server, a Celery worker and Celery beat (periodic tasks: recordings' retention), prints
every URL and login, and on Ctrl+C stops everything it started. A helper that dies is started
again; the server goes on. With no sidecar configured, the agents speak through the offline
cascade voice.

    python -m nexus_project.launcher [--reset-examples] [--sidecar-emulator]

`--reset-examples` applies the example tenants' configs and demo passwords again, over whatever
their admins changed. `--sidecar-emulator` also starts the PersonaPlex emulator (it echoes the
caller, for trying the sidecar protocol without a GPU) as the sidecar pool.
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from nexus_project import embedded
from nexus_project.supervisor import Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def env_file_ensure() -> None:
    """Create `.env` from `.env.example` on first run, with a fresh secret key."""
    env_file = BASE_DIR / ".env"
    if env_file.exists():
        return
    template = (BASE_DIR / ".env.example").read_text()
    key = secrets.token_urlsafe(48)
    env_file.write_text(template.replace("DJANGO_SECRET_KEY=\n", f"DJANGO_SECRET_KEY={key}\n"))
    print(f"Created {env_file} (development settings).")


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_pick(host: str, wanted: int) -> int:
    """`wanted` if it is free, else the next free port (said out loud)."""
    for port in range(wanted, wanted + 50):
        if port_free(host, port):
            if port != wanted:
                print(f"Port {wanted} is busy: using {port} instead.")
            return port
    raise SystemExit(f"No free port in {wanted}..{wanted + 49}; set PORT to a free one.")


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    cli = argparse.ArgumentParser(description="Run Nexus on embedded defaults.")
    cli.add_argument("--reset-examples", action="store_true", help="re-apply the example tenants")
    cli.add_argument(
        "--sidecar-emulator", action="store_true", help="run the PersonaPlex emulator as sidecar"
    )
    options = cli.parse_args(argv)
    os.chdir(BASE_DIR)
    env_file_ensure()
    os.environ["NEXUS_ENV_FILE"] = str(BASE_DIR / ".env")  # for every process started here
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus_project.settings")
    # Ctrl+C gives live calls a moment, within the time the supervisor waits for the server.
    os.environ.setdefault("NEXUS_DRAIN_SECONDS", "3")
    host = os.environ.get("HOST", "127.0.0.1")
    port = port_pick(host, int(os.environ.get("PORT", "8000")))
    signal.signal(signal.SIGTERM, _interrupt)
    processes = Supervisor(BASE_DIR)
    try:
        with embedded.services(embedded.data_paths()) as started:
            for service in started:
                print(f"Started {service}.")
            try:
                manage("migrate_schemas", "--noinput", "-v", "0")
                manage("demo_setup", "--port", str(port), *(["--reset"] * options.reset_examples))
                manage("calls_close_stale")
                if options.sidecar_emulator and not os.environ.get("PERSONAPLEX_URLS"):
                    sidecar_port = port_pick(host, int(os.environ.get("SIDECAR_PORT", "8998")))
                    processes.start(
                        "sidecar emulator",
                        PYTHON, "manage.py", "run_sidecar",
                        "--host", host, "--port", str(sidecar_port),
                        restart=True,
                    )  # fmt: skip
                    os.environ["PERSONAPLEX_URLS"] = f"ws://{host}:{sidecar_port}"
                    print(f"PersonaPlex emulator on {os.environ['PERSONAPLEX_URLS']}")
                processes.start(
                    "celery worker",
                    PYTHON, "-m", "celery", "-A", "nexus_project", "worker",
                    "--pool", "threads", "--concurrency", "4", "--loglevel", "WARNING",
                    restart=True,
                )  # fmt: skip
                processes.start(
                    "celery beat",
                    PYTHON, "-m", "celery", "-A", "nexus_project", "beat", "--loglevel", "WARNING",
                    restart=True,
                )  # fmt: skip
                processes.start(
                    "daphne",
                    PYTHON, "-m", "nexus_project.serve", "-b", host, "-p", str(port),
                    "nexus_project.asgi:application",
                    restart=False,
                )  # fmt: skip
                print(f"\nNexus is up on http://localhost:{port}/  (Ctrl+C stops everything)\n")
                print(f"{processes.watch()} stopped; shutting down.")
                return 1
            finally:
                processes.stop_all()
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
