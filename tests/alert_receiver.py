"""A webhook receiver on 127.0.0.1 for the alert tests: it records every request Apprise
makes (its ``json://`` and ``form://`` targets) and answers with the statuses it is given."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Arrival:
    path: str
    content_type: str
    body: bytes

    def fields(self) -> dict[str, str]:
        """The notification's fields: a JSON object, or a form."""
        if self.content_type.startswith("application/json"):
            return json.loads(self.body)
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class Receiver:
    port: int
    arrivals: list[Arrival] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    on_arrival: Callable[[Arrival], None] | None = None  # called before answering

    def url(self, scheme: str = "json", path: str = "/hook") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def messages(self) -> list[str]:
        return [arrival.fields()["message"] for arrival in self.arrivals]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            arrival = Arrival(
                self.path, self.headers.get("Content-Type", ""), self.rfile.read(length)
            )
            state.arrivals.append(arrival)
            if state.on_arrival is not None:
                state.on_arrival(arrival)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
