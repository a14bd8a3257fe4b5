"""Reverse look-ups never on the request path (spec §7, bad input 40)."""

import io
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app as celery_app
from registrations import tasks
from registrations.models import Address, ClientRole, Registration
from registrations.registers.address_import import import_addresses, text_stream
from registrations.registers.geocoding import geocode_externally, nearest_place
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.presences import registration_submit_batch
from registrations.validation.run import registration_validate_batch
from tests.conftest import free_port, use_broker
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence
from tests.registrations.test_addresses import WETSTRAAT, best_csv, best_row
from tests.registrations.test_validation_handoff import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def check_in(latitude, longitude):
    cleaner = caller_for(make_client())
    declaration = make_declaration(builder=cleaner.enterprise_number, sector=4)
    item = CleaningInput(
        event_type="IN",
        event_at=timezone.now(),
        niss=make_niss(),
        workplace_id=declaration.number,
        enterprise_number=cleaner.enterprise_number,
        latitude=latitude,
        longitude=longitude,
    )
    [result] = registration_submit_cleaning_batch(items=[item], caller=cleaner)
    assert result.errors == []
    return result.registration


def test_the_worker_fills_the_address_of_the_coordinates_after_admission(django_capture_on_commit_callbacks):
    import_addresses(text_stream(best_csv(best_row(1, WETSTRAAT[0] + 0.0002, WETSTRAAT[1], house="16"))))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration = check_in(*WETSTRAAT)
    assert Registration.objects.get(pk=registration.pk).place_address is None  # admission did no look-up
    for callback in callbacks:
        callback()  # the hand-off: validation and places, as the worker runs them
    place = Registration.objects.get(pk=registration.pk).place_address
    assert place["source"] == "register"
    assert place["address"]["houseNumber"] == "16"
    assert place["address"]["postCode"] == "1000"
    assert 20 < place["distanceMeters"] < 25


def test_look_ups_are_cached_by_rounded_coordinates(django_assert_num_queries):
    import_addresses(text_stream(best_csv(best_row(1, *WETSTRAAT, house="16"))))
    first = nearest_place(*WETSTRAAT)
    with django_assert_num_queries(0):
        assert nearest_place(WETSTRAAT[0] + 0.000001, WETSTRAAT[1]) == first


WETSTRAAT_16 = {"address": {"postCode": "1000", "streetName": "Wetstraat", "houseNumber": "16"}, "distanceMeters": 3}


class Geocoder(BaseHTTPRequestHandler):
    delay = 0.0
    calls: list[str] = []
    answer: dict[str, object] = WETSTRAAT_16

    def do_GET(self):
        Geocoder.calls.append(self.path)
        time.sleep(Geocoder.delay)
        body = json.dumps(Geocoder.answer)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def geocoder(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Geocoder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_address[1]}/reverse"
    settings.GEOCODER_TIMEOUT_SECONDS = 1
    Geocoder.calls = []
    Geocoder.answer = WETSTRAAT_16
    yield Geocoder
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_slow_geocoder_delays_the_address_never_the_registration(geocoder, django_capture_on_commit_callbacks):
    geocoder.delay = 2.0  # slower than the timeout
    with django_capture_on_commit_callbacks(execute=True):
        registration = check_in(50.0, 5.5)  # no register address near: the geocoder is asked
    stored = Registration.objects.get(pk=registration.pk)
    assert stored.status != "registered"  # accepted and validated all the same
    assert stored.place_address is None
    assert geocoder.calls  # the task asked, timed out and will be retried

    geocoder.delay = 0.0  # the geocoder recovers: the retried task fills the address
    assert geocode_externally(registration.pk) is True
    place = Registration.objects.get(pk=registration.pk).place_address
    assert (place["source"], place["address"]["streetName"]) == ("geocoder", "Wetstraat")


def test_a_dead_geocoder_raises_for_a_retry(settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9/reverse"  # discard port: connection refused
    registration = check_in(50.0, 5.5)
    with pytest.raises(OSError, match="refused"):
        geocode_externally(registration.pk)


# --- no query without coordinates --------------------------------------------------------------


def _address_queries(captured):
    """The look-ups of the places step: registrations with coordinates, or the address register."""
    coordinates = '"latitude" IS NOT NULL'
    register = f'"{Address._meta.db_table}"'
    return [query["sql"] for query in captured if coordinates in query["sql"] or register in query["sql"]]


def test_a_batch_without_coordinates_runs_no_address_query():
    employer = caller_for(make_client(ClientRole.ENTERPRISE))
    items = [presence(caller=employer) for _ in range(20)]  # SOAP presences never carry coordinates
    ids = [result.registration.pk for result in registration_submit_batch(items=items, caller=employer, channel="WS")]
    with CaptureQueriesContext(connection) as captured:
        assert tasks.validate_registrations(ids) == 20
    assert _address_queries(captured.captured_queries) == []


def test_a_redelivered_validation_task_still_places_what_it_had_validated():
    import_addresses(text_stream(best_csv(best_row(1, *WETSTRAAT, house="16"))))
    registration = check_in(*WETSTRAAT)
    registration_validate_batch(registration_ids=[registration.pk])  # the first delivery, then a crash
    assert tasks.validate_registrations([registration.pk]) == 0  # redelivered: nothing left to validate
    assert Registration.objects.get(pk=registration.pk).place_address["address"]["houseNumber"] == "16"


# --- the geocoding sweep -----------------------------------------------------------------------


def _age(registration, seconds):
    Registration.objects.filter(pk=registration.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture
def broker(real_broker):
    """The broker, down (a publish fails as it does when Redis is unreachable) or back (tasks
    run in-process, as in every other test)."""
    original = celery_app.conf.broker_url

    class Broker:
        @staticmethod
        def down():
            use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

        @staticmethod
        def back():
            use_broker(original)
            celery_app.conf.task_always_eager = True

    return Broker


def test_a_lost_geocoding_hand_off_is_handed_over_again_by_the_sweep(geocoder, broker, settings):
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 600
    registration = check_in(50.0, 5.5)  # no register address near: for the geocoder
    broker.down()
    tasks.validate_registrations([registration.pk])  # validated; the geocoding hand-off is lost
    assert Registration.objects.get(pk=registration.pk).place_address is None
    assert geocoder.calls == []

    broker.back()
    assert tasks.requeue_unplaced_registrations() == 0  # too recent: its own hand-off may still be on its way
    _age(registration, 601)
    assert tasks.requeue_unplaced_registrations() == 1
    place = Registration.objects.get(pk=registration.pk).place_address
    assert (place["source"], place["address"]["streetName"]) == ("geocoder", "Wetstraat")
    assert tasks.requeue_unplaced_registrations() == 0  # placed: never asked again
    assert len(geocoder.calls) == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_address_lost_while_redis_was_down_is_found_by_a_real_worker_once_it_returns(
    geocoder, own_redis, real_broker, start_worker, settings
):
    use_broker(own_redis.url)
    own_redis.stop()  # Redis is down when the worker hands the coordinates to the geocoder
    registration = check_in(50.0, 5.5)
    tasks.validate_registrations([registration.pk])  # validated all the same; the hand-off is lost
    assert Registration.objects.get(pk=registration.pk).place_address is None

    own_redis.start()  # back, empty: the lost hand-off is not in it
    start_worker(own_redis.url, GEOCODER_URL=settings.GEOCODER_URL)
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 60
    _age(registration, 61)
    assert tasks.requeue_unplaced_registrations() == 1  # what beat runs with the validation sweeper

    assert wait_until(lambda: Registration.objects.get(pk=registration.pk).place_address is not None)
    assert Registration.objects.get(pk=registration.pk).place_address["source"] == "geocoder"
    assert len(geocoder.calls) == 1


def test_the_sweep_stops_at_the_first_failed_hand_off_and_leaves_the_rest_for_the_next(geocoder, broker, settings):
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 60
    registrations = [check_in(50.0, 5.5 + n / 1000) for n in range(3)]
    tasks.validate_registrations([r.pk for r in registrations])  # placed at once...
    Registration.objects.update(place_address=None)  # ...or, say, lost
    for registration in registrations:
        _age(registration, 120)
    geocoder.calls = []
    broker.down()
    assert tasks.requeue_unplaced_registrations() == 0
    broker.back()
    assert tasks.requeue_unplaced_registrations() == 3
    assert len(geocoder.calls) == 3


def test_the_sweep_hands_over_a_bounded_batch_oldest_first(geocoder, settings, monkeypatch):
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 60
    registrations = [check_in(50.0, 5.5 + n / 1000) for n in range(3)]
    for age, registration in zip((300, 200, 100), registrations, strict=True):
        registration_validate_batch(registration_ids=[registration.pk])
        _age(registration, age)
    monkeypatch.setattr(tasks, "MAX_BATCH", 2)
    assert tasks.requeue_unplaced_registrations() == 2
    placed = Registration.objects.filter(place_address__isnull=False).values_list("pk", flat=True)
    assert set(placed) == {registrations[0].pk, registrations[1].pk}
    assert tasks.requeue_unplaced_registrations() == 1


def test_coordinates_the_geocoder_cannot_place_are_not_asked_again(geocoder, settings):
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 60
    geocoder.answer = {}  # it knows no address there
    registration = check_in(50.0, 5.5)
    tasks.validate_registrations([registration.pk])
    assert len(geocoder.calls) == 1
    _age(registration, 120)
    assert tasks.requeue_unplaced_registrations() == 0
    assert len(geocoder.calls) == 1
    assert Registration.objects.get(pk=registration.pk).place_address == {"address": None, "source": "geocoder"}


def test_without_an_external_geocoder_the_sweep_does_nothing(settings, django_assert_num_queries):
    settings.GEOCODER_URL = None
    registration = check_in(50.0, 5.5)
    tasks.validate_registrations([registration.pk])
    _age(registration, 100_000)
    with django_assert_num_queries(0):
        assert tasks.requeue_unplaced_registrations() == 0


def test_run_sweeps_hands_unplaced_coordinates_to_the_geocoder(geocoder, settings):
    settings.GEOCODING_REQUEUE_AFTER_SECONDS = 60
    registration = check_in(50.0, 5.5)
    registration_validate_batch(registration_ids=[registration.pk])  # as if its places step were lost
    _age(registration, 120)
    out = io.StringIO()
    call_command("run_sweeps", "--once", stdout=out)
    assert "geocoding: 1 registrations without an address handed over again" in out.getvalue()
    assert Registration.objects.get(pk=registration.pk).place_address["source"] == "geocoder"
