import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])
# Views run in worker threads (ASGI sync_to_async); Celery's "current app" is thread-local,
# so make ours the default everywhere or those threads would get an unconfigured app.
app.set_default()
