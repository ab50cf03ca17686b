"""Django settings, read from the environment only (see `.env.example`, docs/operations.md).

An env file is read only when `NEXUS_ENV_FILE` names one (`make run` names its `.env`), so a
production process, configured by its environment alone, never picks up a development file.
DEBUG is off unless set; with it off, HTTPS is assumed: secure cookies, HSTS, a redirect to
HTTPS (each can be turned off for a plain-HTTP trial).

With no `DATABASE_URL` / `REDIS_URL`, the embedded PostgreSQL and Redis under `NEXUS_DATA_DIR`
are used: the ones `make run` and `make test` start (see `nexus_project/embedded.py`).
"""

import datetime as dt
from pathlib import Path
from typing import Any

import environ

from nexus_project import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env_file := env("NEXUS_ENV_FILE", default=""):
    environ.Env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY") if not DEBUG else env("DJANGO_SECRET_KEY", default="dev")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS, when DEBUG is off (docs/operations.md). Behind a proxy that ends TLS, set
# DJANGO_TLS_PROXY_HEADER=1 so that its X-Forwarded-Proto is believed.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env.bool("DJANGO_TLS_PROXY_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_DIR = Path(env("NEXUS_DATA_DIR", default=str(BASE_DIR / ".data")))
EMBEDDED = embedded.EmbeddedPaths(DATA_DIR)

SHARED_APPS = [
    "django_tenants",
    "daphne",
    "tenants_app",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_jsonform",  # its editor's templates and static files; no models
    "channels",
    "axes",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "axes",  # login failures are counted and locked out in each tenant's own schema
    "voice",
    "tools_registry",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants_app.Tenant"
TENANT_DOMAIN_MODEL = "tenants_app.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "nexus_project.urls_public"
ROOT_URLCONF = "nexus_project.urls_tenant"

MIDDLEWARE = [
    "tenants_app.domains.TenantByHostMiddleware",
    "tenants_app.http.TenantTimezoneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "nexus_project.asgi.application"

DATABASES = {
    "default": (
        env.db_url("DATABASE_URL", engine="django_tenants.postgresql_backend")
        if env("DATABASE_URL", default="")
        else EMBEDDED.database_settings
    )
    # Kept open between queries, so a call's row does not wait for a new connection; checked
    # before reuse, so one the server dropped is replaced. django-tenants sets `search_path`
    # after every schema switch (each `tenant_schema` block, each tenant's request) and again
    # after a rollback or a new connection, so a reused connection never carries one tenant's
    # schema into another's call. HTTP requests close theirs when they end
    # (tenants_app.connections).
    | {"CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60), "CONN_HEALTH_CHECKS": True}
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# `SET search_path` once per schema switch, not before every query: one round trip less each.
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default=EMBEDDED.redis_url)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "nexus_project.channel_layer.PatientRedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while an address is locked out
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_CLIENT_IP_CALLABLE = "nexus_project.client_address.request_client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=None)  # where `collectstatic` puts files (production)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG

# Stored files, i.e. call recordings (docs/operations.md, "Recordings"): on local disk under
# MEDIA_ROOT by default, or in an S3-compatible bucket with NEXUS_STORAGE=s3 (django-storages;
# credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the host's role). They are
# served only to the tenant's staff, through `voice:call_recording`: there is no MEDIA_URL.
MEDIA_ROOT = env("NEXUS_MEDIA_ROOT", default=str(DATA_DIR / "media"))
NEXUS_STORAGE = env("NEXUS_STORAGE", default="filesystem")
if NEXUS_STORAGE not in ("filesystem", "s3"):
    raise ValueError(f"NEXUS_STORAGE is filesystem or s3, not {NEXUS_STORAGE!r}")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if NEXUS_STORAGE == "s3":
    if not env("NEXUS_S3_BUCKET", default=""):
        raise ValueError("NEXUS_STORAGE=s3 needs NEXUS_S3_BUCKET, the bucket's name")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("NEXUS_S3_BUCKET"),
            "endpoint_url": env("NEXUS_S3_ENDPOINT_URL", default="") or None,  # None: AWS
            "region_name": env("NEXUS_S3_REGION", default="") or None,
            "location": env("NEXUS_S3_PREFIX", default=""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Logs (docs/operations.md, nexus_project/logs.py): every line names its tenant, call and persona;
# `console` (coloured, for people) by default under DEBUG, else `json` (one object per line).
LOG_FORMAT = env("LOG_FORMAT", default="console" if DEBUG else "json")
if LOG_FORMAT not in ("console", "json"):
    raise ValueError(f"LOG_FORMAT is console or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"call_context": {"()": "nexus_project.logs.CallContextFilter"}},
    "formatters": {
        "console": {"()": "nexus_project.logs.ConsoleFormatter"},
        "json": {"()": "nexus_project.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["call_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},  # its INFO lines narrate every login
        # Django's own handlers would print its lines a second time, in another format.
        "django": {"handlers": []},
        "django.server": {"handlers": [], "propagate": True},
        # Never below INFO, whatever LOG_LEVEL says: their DEBUG lines carry SQL parameters
        # (session keys, tenant secrets), WebSocket frames (prompts, caller audio), requests.
        "django.db.backends": {"level": "INFO"},
        "websockets": {"level": "INFO"},
        "google_genai": {"level": "INFO"},
    },
}

# The PersonaPlex sidecars (docs/operations.md, docs/voice-engines.md): a pool of sidecar URLs,
# each holding one call at a time unless its entry says more (`ws://gpu-1:8998#sessions=4`).
PERSONAPLEX_URLS = env.list("PERSONAPLEX_URLS", default=[])
PERSONAPLEX_HANDSHAKE_TIMEOUT = env.float("PERSONAPLEX_HANDSHAKE_TIMEOUT", default=30.0)
PERSONAPLEX_LOADING_GRACE = env.float("PERSONAPLEX_LOADING_GRACE", default=3.0)
PERSONAPLEX_CA_FILE = env("PERSONAPLEX_CA_FILE", default=None)
PERSONAPLEX_RETRY_INITIAL = env.float("PERSONAPLEX_RETRY_INITIAL", default=1.0)
PERSONAPLEX_RETRY_MAX = env.float("PERSONAPLEX_RETRY_MAX", default=30.0)

# Abuse limits of the call endpoint (docs/operations.md): refused handshakes per client address
# and minute, and the proxies whose X-Forwarded-For names the client (IPs or networks).
NEXUS_REFUSED_HANDSHAKES_PER_MINUTE = env.int("NEXUS_REFUSED_HANDSHAKES_PER_MINUTE", default=30)
NEXUS_TRUSTED_PROXIES = env.list("NEXUS_TRUSTED_PROXIES", default=[])

# Stopping (`nexus_project.serve`, docs/operations.md): how long calls in progress may go on
# after SIGTERM, no new call taken, before they are ended.
NEXUS_DRAIN_SECONDS = env.float("NEXUS_DRAIN_SECONDS", default=30.0)

# A web process full (`nexus_project.loop_lag`, docs/operations.md): an event-loop lag over the
# limit for the window refuses new calls (4429 `server_busy`) and fails `/readyz`; 0: never.
NEXUS_LOOP_LAG_LIMIT_MS = env.float("NEXUS_LOOP_LAG_LIMIT_MS", default=200.0)
NEXUS_LOOP_LAG_WINDOW_MS = env.float("NEXUS_LOOP_LAG_WINDOW_MS", default=1000.0)
# ... and calls live or starting in the process at this cap refuse new ones too; 0: no cap.
NEXUS_MAX_CALLS_PER_PROCESS = env.int("NEXUS_MAX_CALLS_PER_PROCESS", default=0)

# The text agent and the caller's speech-to-text.
NEXUS_AGENT = env(
    "NEXUS_AGENT", default="gemini" if env("GEMINI_API_KEY", default="") else "offline"
)
NEXUS_SPEECH_TO_TEXT = env("NEXUS_SPEECH_TO_TEXT", default="offline")
# The offline speech-to-text's worker processes per web process; 0: one per CPU it may use.
NEXUS_SPEECH_TO_TEXT_WORKERS = env.int("NEXUS_SPEECH_TO_TEXT_WORKERS", default=0)

# The voice engines (docs/voice-engines.md): the cascade's text-to-speech, and what serves a
# voice call while its persona's engine cannot ("cascade": the cascade voice; "text": text).
NEXUS_TEXT_TO_SPEECH = env(
    "NEXUS_TEXT_TO_SPEECH", default="gemini" if env("GEMINI_API_KEY", default="") else "offline"
)
NEXUS_VOICE_FALLBACK = env("NEXUS_VOICE_FALLBACK", default="cascade")
if NEXUS_VOICE_FALLBACK not in ("cascade", "text"):
    raise ValueError(f"NEXUS_VOICE_FALLBACK is cascade or text, not {NEXUS_VOICE_FALLBACK!r}")

# Celery (slow tools, post-call analysis, recordings' retention) on the same Redis; kombu names a
# unix socket its own way.
CELERY_BROKER_URL = REDIS_URL.replace("unix://", "redis+socket://", 1)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the LOGGING above stays in charge
# Celery beat (`make run` and compose start it): recordings past their tenant's retention are
# deleted every hour.
CELERY_BEAT_SCHEDULE = {
    "recordings-expire": {"task": "recordings.expire", "schedule": dt.timedelta(hours=1)},
}
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(DATA_DIR / "celerybeat-schedule")
)

# Tools: modules that register a business's own tools, and whether `http_request` may reach
# loopback and private addresses (off: only public hosts).
NEXUS_TOOL_MODULES = env.list("NEXUS_TOOL_MODULES", default=[])
NEXUS_HTTP_TOOL_ALLOW_PRIVATE = env.bool("NEXUS_HTTP_TOOL_ALLOW_PRIVATE", default=False)

# Google Gemini (docs/gemini.md): the "gemini" agent, speech-to-text and text-to-speech
# providers, and the `gemini_live` voice engine.
GEMINI_API_KEY = env("GEMINI_API_KEY", default="")
GEMINI_MODEL = env("GEMINI_MODEL", default="gemini-2.5-flash")
GEMINI_BASE_URL = env("GEMINI_BASE_URL", default="")  # empty: Google's endpoint
GEMINI_TIMEOUT_SECONDS = env.float("GEMINI_TIMEOUT_SECONDS", default=20.0)  # per attempt
GEMINI_RETRIES = env.int("GEMINI_RETRIES", default=2)  # on 408/429/5xx, with backoff
GEMINI_TRANSPORT = env("GEMINI_TRANSPORT", default="rest")  # "grpc" is accepted, REST is used
GEMINI_TTS_MODEL = env("GEMINI_TTS_MODEL", default="gemini-2.5-flash-preview-tts")
GEMINI_LIVE_MODEL = env(
    "GEMINI_LIVE_MODEL", default="gemini-2.5-flash-native-audio-preview-12-2025"
)

# Prometheus metrics (docs/operations.md): `/metrics` answers a request with the bearer token,
# or from an allowed network (loopback by default); the tenant label, off for many tenants.
NEXUS_METRICS_TOKEN = env("NEXUS_METRICS_TOKEN", default="")
NEXUS_METRICS_ALLOWED_NETWORKS = env.list(
    "NEXUS_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]
)
NEXUS_METRICS_TENANT_LABEL = env.bool("NEXUS_METRICS_TENANT_LABEL", default=True)
