"""Settings for the test suite: the normal settings, with a throwaway secret key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only")
os.environ.setdefault("NEXUS_TOOL_MODULES", "examples.tenants.joes.tools")

from nexus_project.settings import *  # noqa: F403

# The test clients speak plain HTTP: no redirect to HTTPS, no secure-only cookies.
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
WHITENOISE_USE_FINDERS = True  # static files straight from the apps: no collectstatic in tests
NEXUS_AGENT = "offline"  # whatever the developer's environment says: tests pick their agent
NEXUS_SPEECH_TO_TEXT = "offline"
# Every test client calls from 127.0.0.1: the tests of these limits set their own.
NEXUS_REFUSED_HANDSHAKES_PER_MINUTE = 1_000_000
# A test machine's loop lags under other tests' load: the tests of the limit set their own.
NEXUS_LOOP_LAG_LIMIT_MS = 0
