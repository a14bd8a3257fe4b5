"""A real webhook receiver on loopback, for the tests, `make chaos` and `make bench`.

It records every request it gets (headers, body, when) and answers what its `answer`
function says (200 by default). Given `secrets`, it also verifies each message on arrival
with `standardwebhooks`, as a real receiver would (the signature's timestamp must be fresh
then, which a later check of a message sent in a test's travelled time could not say). `stop()` closes its port (a
receiver that is down: connections are refused) and `start()` opens the same port again.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    valid: dict[str, bool] = field(default_factory=dict)  # secret -> verified on arrival

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def verified(self, secret: str) -> Any:
        """The parsed body if the signature verifies with `secret`; raises WebhookVerificationError."""
        return Webhook(secret).verify(self.body, self.headers)

    def verifies_with(self, secret: str) -> bool:
        try:
            self.verified(secret)
        except WebhookVerificationError:
            return False
        return True


Answer = Callable[[Received], tuple[int, dict[str, str]]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under parallel sends (a dropped
    # SYN is retried a second later): a receiver of the real world listens with more.
    request_queue_size = 128


def always(status: int, headers: dict[str, str] | None = None) -> Answer:
    return lambda _received: (status, headers or {})


@dataclass
class Receiver:
    answer: Answer = field(default_factory=lambda: always(200))
    port: int = 0
    received: list[Received] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # verify each message with these on arrival

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/presence?token=abc"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {name.lower(): value for name, value in self.headers.items()}
                got = Received("POST", self.path, headers, self.rfile.read(length), time.time())
                got.valid = {secret: got.verifies_with(secret) for secret in receiver.secrets}
                with receiver._lock:
                    receiver.received.append(got)
                status, extra = receiver.answer(got)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass  # quiet

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def ids(self) -> list[str]:
        return [message.webhook_id for message in self.messages()]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
