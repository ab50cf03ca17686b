"""The Celery app: slow tools, post-call analysis, and recordings past their retention.

    DJANGO_SETTINGS_MODULE=nexus_project.settings celery -A nexus_project worker --pool threads
    DJANGO_SETTINGS_MODULE=nexus_project.settings celery -A nexus_project beat

Beat (one process per deployment) sends the periodic tasks of `CELERY_BEAT_SCHEDULE`; the
workers run them.

Tasks take a schema name and ids, passed explicitly by the code that sends them, and enter that
tenant's schema themselves. The settings module is left to whoever starts the process (manage.py,
asgi.py, the worker's environment, the test runner), never imposed here.
"""

from celery import Celery

app = Celery("nexus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
