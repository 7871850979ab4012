import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])
# Views run in worker threads (ASGI sync_to_async); Celery's "current app" is thread-local,
# so make ours the default everywhere or those threads would get an unconfigured app.
app.set_default()


# Database connections in workers follow Django's request lifecycle: each task is a "request",
# so ARENA_DB_CONN_MAX_AGE and the connection health checks apply as they do in the web
# process. (Celery's own Django fix-up would otherwise close the connection after every task, and
# opening a PostgreSQL connection costs more than a whole fast model turn; CELERY_DB_REUSE_MAX
# in the settings turns that off.)
def _close_old_connections(task: object) -> None:
    # An eager task runs inside its caller, possibly inside the caller's transaction.
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@task_prerun.connect
def _task_started(task: object = None, **_: object) -> None:
    _close_old_connections(task)


@task_postrun.connect
def _task_finished(task: object = None, **_: object) -> None:
    _close_old_connections(task)
