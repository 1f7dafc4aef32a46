import os

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

app = Celery("lims")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_open_contexts: dict[str, object] = {}


@task_prerun.connect
def _enter_audit_context(task_id: str, task: Task, kwargs: dict | None = None, **_):
    """Every write a task makes is attributed to the task (and to the user who queued it)."""
    from lims.audit import task_context

    actor_id = (kwargs or {}).get("actor_id")
    context = task_context(task.name, task_id, actor_id)
    context.__enter__()
    _open_contexts[task_id] = context


@task_postrun.connect
def _exit_audit_context(task_id: str, **_):
    context = _open_contexts.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
