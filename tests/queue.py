"""The task queue as tests see it, whichever broker is configured: the ORM's (default) or Redis (REDIS_URL,
as in CI's second run). Tasks are django-q's dicts (func, args, kwargs, name…)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.signing import SignedPackage

DEFAULT_CLUSTER = settings.Q_CLUSTER["name"]


def _uses_redis() -> bool:
    return "redis" in settings.Q_CLUSTER


def _raw(cluster: str) -> list:
    if _uses_redis():
        broker = get_broker(cluster)
        return list(broker.connection.lrange(broker.list_key, 0, -1))
    return list(OrmQ.objects.filter(key=cluster).order_by("id"))


def _payload(raw) -> dict:
    return SignedPackage.loads(raw if _uses_redis() else raw.payload)


def _remove(cluster: str, raw) -> None:
    if _uses_redis():
        broker = get_broker(cluster)
        broker.connection.lrem(broker.list_key, 1, raw)
    else:
        raw.delete()


def queued_tasks(cluster: str = DEFAULT_CLUSTER) -> list[dict]:
    """What is waiting in that cluster's queue, oldest first."""
    return [_payload(raw) for raw in _raw(cluster)]


def queue_size(cluster: str = DEFAULT_CLUSTER) -> int:
    return len(_raw(cluster))


def queue_clear(cluster: str = DEFAULT_CLUSTER) -> None:
    for raw in _raw(cluster):
        _remove(cluster, raw)


def run_queued(func: str, cluster: str = DEFAULT_CLUSTER, *, where=None) -> list:
    """Run, here and now, the queued tasks calling `func` (and for which `where(task)` is true, when given),
    as a worker would, and take them off the queue."""
    results = []
    for raw in _raw(cluster):
        task = _payload(raw)
        if task["func"] != func or (where is not None and not where(task)):
            continue
        _remove(cluster, raw)
        results.append(import_string(func)(*task["args"], **task["kwargs"]))
    return results


def queued_take(func: str, cluster: str = DEFAULT_CLUSTER, *, where=None) -> list[dict]:
    """Take off the queue, unrun, the queued tasks calling `func` (for which `where(task)` is true, when
    given), oldest first: to hand them to django-q's own worker (`run_in_worker`)."""
    taken = []
    for raw in _raw(cluster):
        task = _payload(raw)
        if task["func"] != func or (where is not None and not where(task)):
            continue
        _remove(cluster, raw)
        taken.append(task)
    return taken


def run_in_worker(task: dict) -> dict:
    """Run one task as a cluster's worker process does (django_q.worker.worker: the function found from its
    stored dotted path, the timeout, the result package) and return the finished package (`success`,
    `result`). Marked sync, as django-q's own sync mode does: the worker then keeps this process's database
    connection (the test's transaction) and re-raises what the task raised."""
    from multiprocessing import Value
    from queue import Queue

    from django_q.worker import worker

    task_queue: Queue = Queue()
    result_queue: Queue = Queue()
    task_queue.put({**task, "sync": True})
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    return result_queue.get_nowait()


def starts_queued(broadcast_id: int, cluster: str = "broadcasts") -> int:
    """How many start tasks of this broadcast wait in the queue (other tests' broadcasts may wait there
    too: the sweep restarts any whose start was lost)."""
    return sum(
        1
        for task in queued_tasks(cluster)
        if str(task.get("func", "")).endswith(".broadcast_start")
        and list(task.get("args") or ())[:1] == [broadcast_id]
    )
