"""The production image and compose file, and the image's commands started for real.

docker/compose.yaml is checked by Compose itself (`docker-compose config` validates the file
against the Compose specification and needs no Docker engine). The image's web command (daphne
through `nexus_project.serve`) and worker command (Celery) then run as processes of their own on
production settings, given by their environment alone, against the test's PostgreSQL and Redis:
they serve a text call, a slow tool from the worker, and the collected static files.
"""

import asyncio
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from nexus_project.tests.callers import call, tool_invocations, widget_key_commit
from nexus_project.tests.processes import (
    BASE_DIR,
    COMPOSE,
    DOCKERFILE,
    Process,
    answers_health,
    answers_ping,
    collectstatic,
    free_port,
    healthcheck_command,
    production_env,
    running,
    web_process,
    worker_process,
)

pytestmark = pytest.mark.timeout(600)  # processes starting on a busy 2-core machine

SECRETS = {"DJANGO_SECRET_KEY": "compose-secret-key", "POSTGRES_PASSWORD": "compose-password"}
CORE_SERVICES = {"postgres", "redis", "migrate", "web", "worker", "beat"}
WALK_IN_QUESTION = "How long is the wait for a walk-in?"
TOOL_TASK_DONE = r"Task tools\.run\[[\w-]+\] succeeded"  # Celery's line for a slow tool run


# The compose file, as Compose reads it.


def compose_config(tmp_path: Path, *options: str, **variables: str) -> dict:
    """`docker-compose [options] config` with only `variables` set (no .env file): the file as
    Compose resolves it; the test fails with Compose's own words if it is invalid."""
    completed = compose_run(tmp_path, *options, **variables)
    assert completed.returncode == 0, completed.stderr
    return yaml.safe_load(completed.stdout)


def compose_run(tmp_path: Path, *options: str, **variables: str) -> subprocess.CompletedProcess:
    executable = shutil.which("docker-compose")
    if executable is None:
        pytest.fail(
            "docker-compose is not installed, so the compose file cannot be validated: "
            "`make test` installs it (SYSTEM_PACKAGES), or run `apt-get install -y docker-compose`"
        )
    no_env_file = tmp_path / "empty.env"
    no_env_file.touch()
    command = [executable, "-f", str(COMPOSE), "--env-file", str(no_env_file), *options, "config"]
    return subprocess.run(
        command,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def active_services(config: dict, *profiles: str) -> dict[str, dict]:
    """The services `docker compose [--profile P] up` starts: those of no profile, or of one
    of `profiles` (Compose 1 lists every service; Compose 2 only the active ones)."""
    return {
        name: service
        for name, service in config["services"].items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def test_compose_without_a_profile_runs_the_core_services_with_no_gpu(tmp_path):
    config = compose_config(tmp_path, **SECRETS)
    services = active_services(config)

    assert set(services) == CORE_SERVICES
    for name, service in services.items():  # nothing waits for a service that is not started
        assert set(service.get("depends_on", {})) <= CORE_SERVICES, name
    for name in ("web", "worker"):  # no sidecar: PersonaPlex personas speak through the cascade
        environment = services[name]["environment"]
        assert environment["PERSONAPLEX_URLS"] in ("", None)
        assert environment["NEXUS_VOICE_FALLBACK"] == "cascade"


def test_web_and_worker_start_once_migrate_completed_and_postgres_and_redis_are_healthy(tmp_path):
    services = compose_config(tmp_path, **SECRETS)["services"]

    for name in ("web", "worker"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate_schemas", "--noinput"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]


def test_web_worker_and_migrate_are_one_image_chosen_by_the_command(tmp_path):
    services = compose_config(tmp_path, **SECRETS)["services"]

    builds = {name: services[name]["build"] for name in ("web", "worker", "migrate")}
    assert all(build["dockerfile"] == "docker/Dockerfile" for build in builds.values())
    assert {Path(build["context"]).resolve() for build in builds.values()} == {BASE_DIR.resolve()}
    assert "command" not in services["web"]  # the image's own CMD: the web server
    assert services["worker"]["command"][:4] == ["celery", "-A", "nexus_project", "worker"]
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"] == "postgres://postgres:compose-password@postgres:5432/nexus"
    assert environment["DJANGO_SECRET_KEY"] == "compose-secret-key"


def mounts(service: dict) -> dict[str, str]:
    """A service's volumes, target to source (Compose 1 writes `source:target:mode`, Compose 2
    an object)."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        found[target] = source
    return found


def test_one_beat_sends_the_periodic_tasks_and_web_and_worker_share_the_recordings(tmp_path):
    services = compose_config(tmp_path, **SECRETS)["services"]

    beat = services["beat"]
    assert beat["build"] == services["worker"]["build"]  # the same image
    assert beat["command"][:4] == ["celery", "-A", "nexus_project", "beat"]
    assert beat["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "deploy" not in beat  # never replicated: a second beat sends every task twice
    media = services["web"]["environment"]["NEXUS_MEDIA_ROOT"]
    assert services["worker"]["environment"]["NEXUS_MEDIA_ROOT"] == media
    assert mounts(services["web"])[media] == mounts(services["worker"])[media] == "media"
    assert services["web"]["environment"]["NEXUS_STORAGE"] == "filesystem"


def test_gpu_profile_adds_the_personaplex_sidecar_built_from_nvidia_repository(tmp_path):
    variables = {**SECRETS, "HF_TOKEN": "hf-token", "PERSONAPLEX_URLS": "wss://personaplex:8998"}
    config = compose_config(tmp_path, "--profile", "gpu", **variables)
    services = active_services(config, "gpu")

    assert set(services) == CORE_SERVICES | {"personaplex"}
    sidecar = services["personaplex"]
    assert sidecar["profiles"] == ["gpu"]
    assert sidecar["build"]["context"].startswith("https://github.com/NVIDIA/personaplex.git")
    assert sidecar["command"][-4:] == ["-m", "moshi.server", "--ssl", "/app/ssl"]
    assert sidecar["environment"]["HF_TOKEN"] == "hf-token"
    assert [str(port) for port in sidecar["expose"]] == ["8998"]
    [gpu] = sidecar["deploy"]["resources"]["reservations"]["devices"]
    assert (gpu["driver"], gpu["count"], gpu["capabilities"]) == ("nvidia", 1, ["gpu"])
    for name in ("web", "worker"):
        assert services[name]["environment"]["PERSONAPLEX_URLS"] == "wss://personaplex:8998"


def test_compose_refuses_to_start_without_the_secret_key(tmp_path):
    refused = compose_run(tmp_path, POSTGRES_PASSWORD="compose-password")

    assert refused.returncode != 0
    assert "set DJANGO_SECRET_KEY" in refused.stderr


def test_the_image_runs_unprivileged_with_static_files_collected_and_a_healthcheck():
    lines = [line.split(None, 1) for line in DOCKERFILE.read_text().splitlines() if line.strip()]
    instructions = [(words[0], words[-1]) for words in lines if not words[0].startswith("#")]
    users = [argument for instruction, argument in instructions if instruction == "USER"]
    collect = [i for i, (_, argument) in enumerate(instructions) if "collectstatic" in argument]
    ignored = (BASE_DIR / ".dockerignore").read_text().split()

    assert users and users[-1] not in ("root", "0")
    assert collect and instructions[collect[0]][0] == "RUN"
    assert "urllib.request" in " ".join(healthcheck_command(8000))  # Python's: no curl needed
    assert "http://127.0.0.1:8000/healthz" in " ".join(healthcheck_command(8000))
    assert {".env", ".data", ".venv", ".git"} <= set(ignored)


# The image's commands, running.


@dataclass(frozen=True)
class Production:
    port: int
    static_root: Path
    web: Process
    worker: Process


@pytest.fixture(scope="module")
def production(django_db_setup, tmp_path_factory):
    """The image's web and worker commands on production settings, on the test database and
    Redis, with the static files collected first (as the image's build does)."""
    folder = tmp_path_factory.mktemp("production")
    static_root = folder / "static"
    env = production_env(STATIC_ROOT=str(static_root))
    collected = collectstatic(env)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    worker, node_name = worker_process(env, folder)
    with (
        running(worker, answers_ping(node_name), "answering a ping"),
        running(web_process(port, env, folder), answers_health(port), "answering /healthz") as web,
    ):
        yield Production(port, static_root, web, worker)


@pytest.fixture
async def joes_key(db):
    return await widget_key_commit("joes")


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """A GET that follows no redirect: its status, headers and body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with opener.open(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_image_healthcheck_passes_against_the_web_command_and_fails_without_it(production):
    def healthcheck(port: int) -> subprocess.CompletedProcess:
        return subprocess.run(healthcheck_command(port), capture_output=True, text=True, timeout=60)

    healthy, nobody = healthcheck(production.port), healthcheck(free_port())

    assert healthy.returncode == 0, healthy.stderr
    assert nobody.returncode != 0


def test_static_files_are_collected_and_served_by_the_production_server(production):
    widget = (BASE_DIR / "static" / "nexus" / "widget.js").read_bytes()
    plain_http = {"Host": "localhost"}
    behind_tls_proxy = {**plain_http, "X-Forwarded-Proto": "https"}

    status, headers, body = get(production.port, "/static/nexus/widget.js", behind_tls_proxy)
    plain_status, plain_headers, _ = get(production.port, "/static/nexus/widget.js", plain_http)

    assert (production.static_root / "nexus" / "widget.js").read_bytes() == widget
    assert status == 200
    assert body == widget
    assert "javascript" in headers["Content-Type"]
    # Production settings are in force: plain HTTP is sent to HTTPS.
    assert plain_status == 301
    assert plain_headers["Location"].startswith("https://")


async def test_a_text_call_is_answered_by_the_web_command(production, joes_key):
    async with call(production.port, f"key={joes_key.key}&mode=text") as caller:
        session = await caller.receive()
        answer = await caller.say("How much is a haircut?")
        ended = await caller.hang_up()

    assert session["type"] == "session"
    assert session["mode"] == "text"
    assert "25 dollars" in answer
    assert ended == {"type": "ended", "reason": "caller_hangup"}


async def test_a_slow_tool_is_run_by_the_worker_command(production, joes_key):
    async with call(production.port, f"key={joes_key.key}&mode=text") as caller:
        call_id = (await caller.receive())["call_id"]
        card = await caller.tool_card(WALK_IN_QUESTION, "walk_in_wait")
        await caller.hang_up()

    assert card["status"] == "succeeded", card
    assert card["title"] == "Walk-in wait"
    assert "wait" in card["summary"].lower()
    assert await tool_invocations("joes", call_id) == [("walk_in_wait", "succeeded")]
    # walk_in_wait is slow: the web process never runs it, the worker process did.
    assert await asyncio.to_thread(production.worker.lines_matching, TOOL_TASK_DONE)
