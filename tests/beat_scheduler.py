"""The beat scheduler of tests/test_process_logs.py: the service's own (persistent) scheduler
and schedule, plus one entry whose arguments carry a NISS and a BIS number, as a schedule
entry's arguments could."""

from typing import Any

from celery.beat import PersistentScheduler


class WithNissArguments(PersistentScheduler):
    def setup_schedule(self) -> None:
        entry: dict[str, Any] = {
            "task": "elsewhere.notify_worker",  # beat sends by name: the task may live in another app
            "args": ["85.07.30-033.28"],  # tests.test_process_logs.PRINTED; BIS below
            "kwargs": {"bis": "85473003317"},
            "schedule": 0.5,
        }
        self.app.conf.beat_schedule = {**self.app.conf.beat_schedule, "notify-a-worker": entry}
        super().setup_schedule()
