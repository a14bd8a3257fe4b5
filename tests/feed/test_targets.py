"""The SSRF guard: which targets a subscription may use, and what an attempt connects to.

The default settings are production's: https only, public addresses only. Targets that
resolve elsewhere are refused when the subscription is made and again at every attempt, a
name that changes its answer after the check reaches nothing it should not, redirects are
not followed, and an answer that never ends does not hold the attempt."""

import socket
import threading

import pytest
from django.utils import timezone

from feed import targets
from feed.domain import Outcome
from feed.models import Delivery, DeliveryAttempt
from feed.sender import post
from feed.services.subscriptions import SubscriptionError, subscription_create
from feed.targets import TargetRefusedError, check_target, parse_target
from feed.tasks import sweep_feed
from registrations.domain.vocabulary import ClientRole
from tests.factories import caller_for, make_client, presence
from tests.feed.receiver import Receiver, always

PUBLIC = "93.184.215.14"


@pytest.fixture
def resolving(monkeypatch):
    """Make `getaddrinfo` answer from a table (name -> addresses, in order of calls)."""
    table: dict[str, list[list[str]]] = {}
    calls: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        answers = table[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    monkeypatch.setattr(targets.socket, "getaddrinfo", fake)
    return table, calls


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",  # private
        "https://192.168.1.20/hook",
        "https://172.16.5.4/hook",
        "https://127.0.0.1/hook",  # loopback
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # loopback in IPv6 dress
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[fe80::1]/hook",
        "https://100.64.0.1/hook",  # shared address space (CGNAT)
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",  # multicast
        "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "https://[2002:a00:1::]/hook",  # 6to4 of 10.0.0.1
        "https://2130706433/hook",  # 127.0.0.1 as one number
    ],
)
def test_a_target_on_a_private_loopback_or_link_local_address_is_refused(settings, url):
    with pytest.raises(TargetRefusedError, match="public internet addresses only"):
        check_target(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.org/hook", "https://"),
        ("ftp://hooks.example.org/hook", "https://"),
        ("https://user:pw@hooks.example.org/hook", "credentials"),
        ("https://hooks.example.org/hook#part", "fragment"),
        ("https:///hook", "no host"),
        ("hooks.example.org/hook", "https://"),
        ("https://hooks.example.org:99999/hook", "not a valid URL"),
        ("https://hooks.example.org/h ook", "spaces"),
        ("https://hooks.exämple.org/hook", "ASCII"),
        ("https://hooks.example.org/" + "a" * 2050, "at most 2048"),
    ],
)
def test_a_malformed_or_plain_http_target_is_refused_with_its_reason(url, reason):
    with pytest.raises(TargetRefusedError, match=reason):
        parse_target(url)


def test_a_name_that_does_not_resolve_gets_the_same_answer_as_a_private_one(resolving):
    table, _ = resolving
    table["intranet.example.test"] = [["10.1.2.3"]]
    with pytest.raises(TargetRefusedError) as private:
        check_target("https://intranet.example.test/hook")
    with pytest.raises(TargetRefusedError) as unknown:
        check_target("https://no-such-host.invalid/hook")
    assert private.value.reason == unknown.value.reason  # nobody learns which internal names exist


def test_a_name_with_one_private_address_among_public_ones_is_refused(resolving):
    table, _ = resolving
    table["mixed.example.test"] = [[PUBLIC, "10.0.0.7"]]
    with pytest.raises(TargetRefusedError):
        check_target("https://mixed.example.test/hook")


def test_a_public_https_target_is_accepted(resolving):
    table, _ = resolving
    table["hooks.example.test"] = [[PUBLIC]]
    target = check_target("https://hooks.example.test:8443/presence?token=x")
    assert (target.host, target.port, target.path, target.host_header) == (
        "hooks.example.test",
        8443,
        "/presence?token=x",
        "hooks.example.test:8443",
    )


def test_an_operator_may_allow_a_private_network_and_http(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert check_target("http://127.0.0.1:8080/hook").port == 8080
    with pytest.raises(TargetRefusedError):
        check_target("http://127.0.0.2:8080/hook")  # only the network named


@pytest.mark.django_db
def test_a_subscription_to_a_refused_target_is_not_made(settings):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    with pytest.raises(SubscriptionError) as refused:
        subscription_create(caller=caller, target_url="https://169.254.169.254/latest/meta-data")
    assert refused.value.field == "url"


@pytest.fixture
def local_http(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_DELIVER_AFTER_PUBLISHING = True
    return settings


@pytest.mark.django_db
def test_a_name_that_turns_private_after_the_check_is_not_reached(local_http, resolving, receiver, submit):
    """DNS rebinding: public when the subscription is made, loopback at the attempt."""
    table, _ = resolving
    table["rebind.example.test"] = [[PUBLIC], ["127.0.0.1"]]
    local_http.WEBHOOK_ALLOWED_NETWORKS = []  # the loopback receiver is not allowed here
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    made = subscription_create(caller=caller, target_url=f"http://rebind.example.test:{receiver.port}/hook")

    submit(caller, [presence(caller=caller)])

    assert receiver.messages() == []
    attempt = DeliveryAttempt.objects.filter(subscription_id=made.subscription.pk).first()
    assert attempt is not None
    assert (attempt.outcome, attempt.status_code) == (Outcome.ADDRESS_NOT_ALLOWED, None)


@pytest.mark.django_db
def test_an_attempt_connects_to_the_address_it_checked(local_http, resolving, receiver, submit):
    """One resolution per attempt: a second answer (public, never checked) is not used."""
    table, calls = resolving
    table["hooks.example.test"] = [["127.0.0.1"], [PUBLIC]]
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    made = subscription_create(
        caller=caller,
        target_url=f"http://hooks.example.test:{receiver.port}/hook",
        event_types=["registration.created"],
    )
    table["hooks.example.test"] = [["127.0.0.1"], [PUBLIC]]
    calls.clear()

    submit(caller, [presence(caller=caller)])

    [message] = receiver.messages()
    assert message.verifies_with(made.secret)
    assert message.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert calls == ["hooks.example.test"]


@pytest.mark.django_db
def test_a_redirect_is_not_followed(local_http, receiver, submit):
    elsewhere = Receiver().start()
    try:
        receiver.answer = always(302, {"Location": elsewhere.url})
        caller = caller_for(make_client(ClientRole.ENTERPRISE))
        made = subscription_create(caller=caller, target_url=receiver.url, event_types=["registration.created"])

        submit(caller, [presence(caller=caller)])

        assert len(receiver.messages()) == 1
        assert elsewhere.messages() == []
        attempt = DeliveryAttempt.objects.get(subscription_id=made.subscription.pk)
        assert (attempt.outcome, attempt.status_code) == (Outcome.REDIRECTED, 302)
        assert Delivery.objects.get(subscription=made.subscription).state == Delivery.State.PENDING
    finally:
        elsewhere.stop()


class _Trickle:
    """A server that accepts, then answers at a byte per half second, forever; or never."""

    def __init__(self, status_line: bool) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.status_line = status_line
        self.stopping = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            if self.status_line:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
            while not self.stopping.wait(0.5):
                if self.status_line:
                    try:
                        connection.sendall(b"x")
                    except OSError:
                        return

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.mark.parametrize(("status_line", "outcome"), [(True, Outcome.DELIVERED), (False, Outcome.TIMEOUT)])
def test_an_answer_that_never_ends_does_not_hold_the_attempt(local_http, status_line, outcome):
    local_http.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    local_http.WEBHOOK_READ_TIMEOUT_SECONDS = 1
    server = _Trickle(status_line)
    results = []
    try:
        attempt = threading.Thread(
            target=lambda: results.append(post(parse_target(f"http://127.0.0.1:{server.port}/"), b"{}", {}))
        )
        attempt.start()
        attempt.join(30)  # liveness, not speed: without the watchdog this would never end
        assert not attempt.is_alive()
    finally:
        server.close()
    [sent] = results
    assert sent.outcome == outcome


@pytest.mark.django_db
def test_a_target_no_longer_allowed_is_refused_at_the_attempt(local_http, receiver, submit):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    made = subscription_create(caller=caller, target_url=receiver.url, event_types=["registration.created"])
    local_http.WEBHOOK_ALLOWED_NETWORKS = []  # the operator withdrew the exception

    submit(caller, [presence(caller=caller)])
    sweep_feed()

    assert receiver.messages() == []
    attempt = DeliveryAttempt.objects.get(subscription_id=made.subscription.pk)
    assert attempt.outcome == Outcome.ADDRESS_NOT_ALLOWED
    assert Delivery.objects.get(subscription=made.subscription).next_attempt_at > timezone.now()
