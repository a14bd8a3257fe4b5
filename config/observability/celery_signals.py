"""Celery's side of the request id and the task metrics, connected by config/celery.py.

A task published while a request is current carries its id in a message header; the worker
makes that id current while the task runs, so the validation of a batch logs with the id of
the call that registered it. A task published by no request (beat's sweeps) runs under its own
Celery task id, which Celery's own "received" and "succeeded" lines print too.
"""

import time
from contextvars import Token
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun, task_retry, task_success

from config.observability import context, metrics

REQUEST_ID_HEADER = "presence_request_id"

# Per task id: what task_prerun started, for task_postrun to end (one thread runs both).
_tokens: dict[str, Token[context.RequestContext | None]] = {}
_started: dict[str, float] = {}


@before_task_publish.connect
def carry_the_request_id(headers: dict[str, Any] | None = None, **_: object) -> None:
    request_id = context.current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
def enter_the_task(task_id: str = "", task: Task[Any, Any] | None = None, **_: object) -> None:
    _started[task_id] = time.perf_counter()
    if task is None:
        return
    if task.request.is_eager and context.current() is not None:
        return  # run in-process by the request that queued it: its id is already current
    _tokens[task_id] = context.begin(getattr(task.request, REQUEST_ID_HEADER, None) or task_id)


@task_postrun.connect
def leave_the_task(task_id: str = "", task: Task[Any, Any] | None = None, **_: object) -> None:
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        metrics.CELERY_TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)
    token = _tokens.pop(task_id, None)
    if token is not None:
        context.end(token)


@task_success.connect
def count_a_success(sender: Task[Any, Any] | None = None, **_: object) -> None:
    if sender is not None:
        metrics.CELERY_TASKS.labels(sender.name, "success").inc()


@task_failure.connect
def count_a_failure(sender: Task[Any, Any] | None = None, **_: object) -> None:
    if sender is not None:
        metrics.CELERY_TASKS.labels(sender.name, "failure").inc()


@task_retry.connect
def count_a_retry(sender: Task[Any, Any] | None = None, **_: object) -> None:
    if sender is not None:
        metrics.CELERY_TASKS.labels(sender.name, "retry").inc()
