"""Sending one signed webhook, and nothing else: no database, no retry (docs/adr/0017).

Each attempt resolves the target's host once and connects to the address it checked (feed/
targets.py); TLS still verifies the certificate against the host name (SNI and hostname
check on the name, connection to the checked address). Redirects are never followed: a 3xx
is a failed attempt. Timeouts are short (WEBHOOK_CONNECT_TIMEOUT_SECONDS to connect,
WEBHOOK_READ_TIMEOUT_SECONDS per read), and a watchdog ends any attempt that outlives their
sum, so a receiver that drips its answer byte by byte cannot hold a worker. Of the answer
only the status line, the headers and at most RESPONSE_BODY_LIMIT bytes are read; the body is
discarded. urllib3 is used directly: it reads no proxy from the environment and follows
nothing by itself.
"""

import http.client
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError
from urllib3.response import BaseHTTPResponse

from feed.domain import Outcome, outcome_of_status
from feed.targets import IPAddress, Target, TargetRefusedError, checked_address

RESPONSE_BODY_LIMIT = 4096
_TIMEOUTS = (ConnectTimeoutError, ReadTimeoutError, TimeoutError)
USER_AGENT = "PresenceRegistration-Webhooks/1"


@dataclass(frozen=True)
class Sent:
    """How one attempt ended: its outcome, the receiver's status code if it answered, and
    how long it took."""

    outcome: Outcome
    status_code: int | None
    duration_ms: int


class _Watchdog:
    """Shuts the connection's socket down once the attempt's time is up: a blocked read then
    returns at once, whatever the receiver does."""

    def __init__(self, connection: HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._connection = connection
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self._connection, "sock", None)
        if sock is not None:
            with suppress(OSError):  # already closed: the attempt is over anyway
                sock.shutdown(socket.SHUT_RDWR)


def _connection(target: Target, address: IPAddress) -> HTTPConnection:
    timeout = float(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS)
    if target.scheme == "https":
        return HTTPSConnection(
            str(address),
            target.port,
            timeout=timeout,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return HTTPConnection(str(address), target.port, timeout=timeout)


def _read_at_most(response: BaseHTTPResponse, limit: int) -> None:
    """Read up to `limit` bytes of the body and drop them: the status is all we keep."""
    received = 0
    while received <= limit:
        chunk = response.read1(1024)
        if not chunk:
            return
        received += len(chunk)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Sent:
    """POST `body` to the target's checked address; never raises for what the receiver does."""
    started = time.monotonic()

    def sent(outcome: Outcome, status: int | None = None) -> Sent:
        return Sent(outcome, status, round((time.monotonic() - started) * 1000))

    try:
        address = checked_address(target)
    except TargetRefusedError:
        return sent(Outcome.ADDRESS_NOT_ALLOWED)
    connection = _connection(target, address)
    deadline = settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOK_READ_TIMEOUT_SECONDS
    request_headers = {
        **headers,
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    status: int | None = None
    with _Watchdog(connection, deadline) as watchdog:
        try:
            connection.connect()  # within the connect timeout, TLS handshake included
            if connection.sock is not None:
                connection.sock.settimeout(settings.WEBHOOK_READ_TIMEOUT_SECONDS)
            connection.request("POST", target.path, body=body, headers=request_headers, preload_content=False)
            response = connection.getresponse()
            status = response.status
            _read_at_most(response, RESPONSE_BODY_LIMIT)
        except (HTTPError, http.client.HTTPException, OSError) as error:
            # Once the status line is in, the receiver has answered; the rest of its body is
            # not worth waiting for.
            if status is None:
                timed_out = watchdog.fired or isinstance(error, _TIMEOUTS)
                return sent(Outcome.TIMEOUT if timed_out else Outcome.UNREACHABLE)
        finally:
            connection.close()
    if status is None:
        return sent(Outcome.UNREACHABLE)
    return sent(outcome_of_status(status), status)
