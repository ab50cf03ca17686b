"""The Celery app: slow tools and post-call analysis, run by `celery -A nexus_project worker`.

Tasks take a schema name and ids, passed explicitly by the code that sends them, and enter that
tenant's schema themselves.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus_project.settings")

app = Celery("nexus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
