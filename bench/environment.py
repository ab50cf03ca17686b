"""The benchmark's Django environment: production settings, for it and every process it starts.

`DJANGO_DEBUG` is forced off (debug mode keeps every SQL query in memory and is not what
production runs), with no redirect to HTTPS (the callers speak plain HTTP to localhost), and a
throwaway secret key is made when none is set. The text agent
and the caller's speech-to-text are the offline ones unless the environment names others, so a
run needs no network and gives comparable figures. The ASGI server and the management commands
started later inherit this environment.
"""

import os
import secrets

import django


def django_setup() -> None:
    """Set the environment and `django.setup()`; call before importing any model."""
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"  # the callers speak plain HTTP to localhost
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("NEXUS_AGENT", "offline")
    os.environ.setdefault("NEXUS_SPEECH_TO_TEXT", "offline")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus_project.settings")
    django.setup()
