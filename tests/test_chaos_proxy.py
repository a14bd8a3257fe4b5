"""The fault-injecting TCP proxy of `make chaos` (chaos/proxy.py), against a local echo server."""

import contextlib
import socket
import socketserver
import threading

import pytest

from chaos.proxy import FaultyProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo_port):
    proxy = FaultyProxy(echo_port).start()
    yield proxy
    proxy.stop()


def talk(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_without_faults_bytes_pass_both_ways(proxy):
    assert talk(proxy.port, b"x" * 100_000) == b"x" * 100_000


def test_latency_still_delivers_everything(proxy):
    proxy.latency = 0.01
    assert talk(proxy.port, b"ping") == b"ping"


def test_a_drop_resets_the_connection_and_is_counted(proxy):
    proxy.drop_rate = 1.0
    assert talk(proxy.port, b"ping") == b""
    assert proxy.dropped >= 1
    proxy.drop_rate = 0.0
    assert talk(proxy.port, b"again") == b"again"


def test_drop_all_resets_open_connections(proxy):
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"hello")
        assert sock.recv(5) == b"hello"
        proxy.drop_all()
        sock.settimeout(5)
        with contextlib.suppress(ConnectionResetError):  # an abort may arrive as a reset
            assert sock.recv(5) == b""
