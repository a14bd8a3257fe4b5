"""Settings for the beat of tests/test_process_logs.py: the test settings plus one periodic
task whose arguments carry a NISS and a BIS number, as a schedule entry's arguments could."""

from config.settings.test import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F405
    "notify-a-worker": {
        "task": "elsewhere.notify_worker",  # beat sends by name: the task may live in another app
        "args": ["85.07.30-033.28"],  # tests.test_process_logs.PRINTED; BIS below
        "kwargs": {"bis": "85473003317"},
        "schedule": 0.5,
    },
}
