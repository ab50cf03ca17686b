"""Production runs on production settings: the compose file's environment alone, whatever
development files a checkout holds, gives DEBUG off, a clean `check --deploy`, no demo logins."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

COMPOSE = Path(settings.BASE_DIR) / "docker" / "compose.yaml"
SECRETS = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": "compose-password",
    "HF_TOKEN": "hf-token",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def compose_environment(service: str) -> dict[str, str]:
    """The environment compose gives `service`, with the operator's secrets filled in."""

    def value(match: re.Match) -> str:
        name, kind, default = match.groups()
        if name in SECRETS:
            return SECRETS[name]
        assert kind == "-", f"{name} is required by compose and not given here"
        return default

    environment = yaml.safe_load(COMPOSE.read_text())["services"][service]["environment"]
    return {name: _VARIABLE.sub(value, str(text)) for name, text in environment.items()}


def manage(*args: str, **extra: str) -> subprocess.CompletedProcess:
    """`manage.py` with only compose's environment (and what finds Python), in the checkout;
    `extra` as the operator's `.env` would add it."""
    environment = {"PATH": os.environ["PATH"], **compose_environment("web"), **extra}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def development_env_file():
    """A checkout that ran `make run` has a `.env` with DEBUG on: make sure one is there."""
    env_file = Path(settings.BASE_DIR) / ".env"
    if env_file.exists():
        yield env_file
        return
    env_file.write_text("DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=dev\n")
    try:
        yield env_file
    finally:
        env_file.unlink()


def test_compose_settings_have_debug_off_whatever_the_checkout_holds():
    shown = manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "False"


def test_check_deploy_is_clean_with_the_compose_environment():
    checked = manage("check", "--deploy", "--fail-level", "WARNING")

    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout


def test_no_demo_logins_on_production_settings():
    refused = manage("demo_setup")

    assert refused.returncode != 0
    assert "demo logins are for development only" in refused.stderr


STORAGE_SHOWN = (
    "from voice.recording.storage import recording_storage; s = recording_storage(); "
    "print(s.__class__.__name__, s.bucket_name, s.endpoint_url, s.location, s.default_acl, "
    "s.querystring_auth, s.file_overwrite)"
)


def test_recordings_go_to_an_s3_compatible_bucket_when_the_operator_says_so():
    local = manage("shell", "-c", "from django.conf import settings; print(settings.MEDIA_ROOT)")
    bucket = manage(
        "shell",
        "-c",
        STORAGE_SHOWN,
        NEXUS_STORAGE="s3",
        NEXUS_S3_BUCKET="nexus-recordings",
        NEXUS_S3_ENDPOINT_URL="https://minio.internal:9000",
        NEXUS_S3_PREFIX="production",
    )
    no_bucket = manage("check", NEXUS_STORAGE="s3")

    assert local.stdout.strip().splitlines()[-1] == "/var/lib/nexus/media"  # compose's volume
    assert bucket.returncode == 0, bucket.stderr
    assert bucket.stdout.strip().splitlines()[-1] == (
        "S3Storage nexus-recordings https://minio.internal:9000 production private True False"
    )
    assert no_bucket.returncode != 0
    assert "NEXUS_STORAGE=s3 needs NEXUS_S3_BUCKET" in no_bucket.stderr
