"""Settings for the test suite: the normal settings, with a throwaway secret key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only")

from nexus_project.settings import *  # noqa: E402, F403
