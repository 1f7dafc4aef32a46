"""Who did what, for the trigger-based audit trail.

django-pghistory's triggers copy every inserted, updated and deleted row into an append-only
event table. The context attached here says who acted and through which door: an HTTP request,
a management command or a Celery task. DRF resolves the token user inside the view; pghistory's
request class re-attaches the user as soon as DRF sets it.
"""

import getpass
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pghistory
from pghistory import runtime as pghistory_runtime
from pghistory.middleware import HistoryMiddleware


class AuditMiddleware(HistoryMiddleware):
    def get_context(self, request) -> dict:
        context = super().get_context(request)
        context["request_id"] = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        context["method"] = request.method
        return context


@contextmanager
def audit_context(*, actor=None, reason: str | None = None, **extra) -> Iterator[None]:
    """Attach an actor, a reason and any extra keys to every write inside the block."""
    values = {key: value for key, value in extra.items() if value is not None}
    if actor is not None:
        values["user"] = actor.pk
    if reason:
        values["reason"] = reason
    with _context(values):
        yield


@contextmanager
def _context(values: dict) -> Iterator[None]:
    outer = getattr(pghistory_runtime._tracker, "value", None)
    if outer is None:
        with pghistory.context(**values):
            yield
        return
    if all(outer.metadata.get(key) == value for key, value in values.items()):
        yield
        return
    # pghistory would merge these values into the enclosing context, whose one row every earlier event
    # of the request points to: a nested reason or actor would rewrite who and why for those events.
    # A nested block with different values gets a context of its own instead, and the outer one is back after it.
    pghistory_runtime._tracker.value = pghistory_runtime.Context(id=uuid.uuid4(), metadata={**outer.metadata, **values})
    try:
        yield
    finally:
        pghistory_runtime._tracker.value = outer


@contextmanager
def command_context(command: str, actor=None) -> Iterator[None]:
    with audit_context(actor=actor, command=command, os_user=getpass.getuser()):
        yield


@contextmanager
def task_context(task_name: str, task_id: str | None, actor_id: int | None = None) -> Iterator[None]:
    values = {"task": task_name, "task_id": task_id}
    if actor_id is not None:
        values["user"] = actor_id
    with _context(values):
        yield


def tracked(model_class):
    """Put a model under the trigger-based audit trail; its history model is `<Model>History`."""
    return pghistory.track(
        model_name=f"{model_class.__name__}History",
        obj_field=pghistory.ObjForeignKey(related_name="history", related_query_name="history"),
    )(model_class)


def history_model(model):
    """The `<Model>History` event model that holds a tracked model's row history."""
    return model._meta.apps.get_model(model._meta.app_label, f"{model.__name__}History")
