"""Reverse look-ups never on the request path (spec §7, bad input 40)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.utils import timezone

from registrations.models import Registration
from registrations.registers.address_import import import_addresses, text_stream
from registrations.registers.geocoding import geocode_externally, nearest_place
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss
from tests.registrations.test_addresses import WETSTRAAT, best_csv, best_row

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


class Geocoder(BaseHTTPRequestHandler):
    delay = 0.0
    calls: list[str] = []

    def do_GET(self):
        Geocoder.calls.append(self.path)
        time.sleep(Geocoder.delay)
        body = json.dumps(
            {"address": {"postCode": "1000", "streetName": "Wetstraat", "houseNumber": "16"}, "distanceMeters": 3}
        )
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
