"""Feed fixtures: a real receiver on loopback, the settings that let the webhooks reach it,
and submitting registrations with their after-commit work run (validation, publication,
deliveries), as a worker would after the client's call."""

from collections.abc import Iterator

import pytest

from registrations.domain.vocabulary import Channel
from registrations.services.presences import registration_submit_batch
from tests.feed.receiver import Receiver

DEFAULT_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]


@pytest.fixture
def webhook_settings(settings):
    """An operator allowed http:// and the loopback network: the receiver runs on this host."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_DELIVER_AFTER_PUBLISHING = True
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = DEFAULT_SCHEDULE
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = sum(DEFAULT_SCHEDULE)
    settings.WEBHOOK_SECRET_OVERLAP_SECONDS = 86400
    return settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """Register presences and run what follows the commit (validation, publication, delivery)."""

    def run(caller, items, channel=Channel.WS):
        with django_capture_on_commit_callbacks(execute=True):
            results = registration_submit_batch(items=list(items), caller=caller, channel=channel)
        return [result.registration for result in results]

    return run
