"""A small asyncio TCP proxy that injects faults between the application and its database.

`FaultyProxy(target_port)` listens on a free loopback port (or on `port`, to stand in again for a
proxy that was stopped: the outage of the service behind it ends) and forwards every connection
to 127.0.0.1:target_port. While it runs (in a thread of its own) the chaos script sets:
- `latency`: seconds added before each chunk travels from the application to the server;
- `drop_rate`: the chance, per chunk, that the connection is reset (both sides aborted);
- `drop_all()`: reset every open connection now.
"""

import asyncio
import random
import socket
import threading
from contextlib import suppress


class FaultyProxy:
    def __init__(self, target_port: int, *, seed: int = 1, port: int | None = None) -> None:
        self.target_port = target_port
        self.latency = 0.0
        self.drop_rate = 0.0
        self.dropped = 0
        self._rng = random.Random(seed)  # noqa: S311  # fault timing, not secrets
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        if port is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
        self.port = port
        self._thread = threading.Thread(target=self._run, name="faulty-proxy", daemon=True)

    def start(self) -> "FaultyProxy":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def drop_all(self) -> None:
        self._loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
            self.dropped += 1
        self._writers.clear()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._abort_all()
            # Let the aborted transports close their sockets, then end the pipes still waiting.
            self._loop.run_until_complete(asyncio.sleep(0.05))
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0.05))
            self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, server_writer}
        self._writers |= pair
        await asyncio.gather(
            self._pipe(client_reader, server_writer, pair, delayed=True),
            self._pipe(server_reader, client_writer, pair, delayed=False),
        )
        self._writers -= pair

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: set[asyncio.StreamWriter],
        *,
        delayed: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if delayed and self.latency:
                    await asyncio.sleep(self.latency)
                if self.drop_rate and self._rng.random() < self.drop_rate:
                    self.dropped += 1
                    for each in pair:
                        each.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with suppress(OSError, RuntimeError):
                writer.close()
