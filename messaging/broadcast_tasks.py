"""The broadcast queue tasks' old dotted path, kept for one release: the tasks are in
``messaging.broadcasts.tasks``.

django-q stores a task's function as a dotted path, in queued tasks and in ``Schedule`` rows. A deployment
from before the move has rows naming ``messaging.broadcast_tasks.broadcasts_sweep`` (the minute sweep) and
``messaging.broadcast_tasks.broadcast_start`` (scheduled broadcasts), and may have queued
``broadcast_start`` / ``broadcast_dispatch`` tasks. These names keep them running; the first sweep moves
the stored schedules to the new paths (``sweep_schedule_ensure``), and queued tasks run within minutes.
Delete this module in the release after the one that moved the tasks (tests/messaging/test_broadcast.py's
test of an old stored schedule goes with it). Import nothing from here.
"""

from messaging.broadcasts.tasks import broadcast_dispatch, broadcast_start, broadcasts_sweep

__all__ = ["broadcast_dispatch", "broadcast_start", "broadcasts_sweep"]
