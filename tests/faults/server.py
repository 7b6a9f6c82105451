"""A loopback HTTP server whose paths select a fault, for the fault suite.

Paths:

- ``/feed.xml?link=PATH&link=...``: a good RSS feed listing those links
- ``/story/SLUG.html``: a good article page; ``/private/SLUG.html`` too, but robots.txt
  disallows ``/private/``; ``/slow/SLUG.html`` too, after a pause (the server counts how
  many of those it answers at once)
- ``/status/CODE[?retry_after=SECONDS]``: that status, with a Retry-After header if asked
- ``/throttle/SECONDS/PATH``: 429 with ``Retry-After: SECONDS`` the first time, then PATH
- ``/reset``: the connection is reset (RST) before any answer
- ``/hang``: the request is read and never answered
- ``/drip``: a 200 whose body trickles one byte every half second
- ``/loop/a`` and ``/loop/b``: redirect to each other
- ``/chain/N``: redirects to ``/chain/N+1``, forever
- ``/short``: a 200 whose body stops far short of its Content-Length
- ``/redirect?to=URL``: a 302 to URL
- ``/huge?length=declared|unknown``: a 50 MB body, streamed, with or without Content-Length
- ``/bomb``: a 32 KB gzip body (Content-Encoding: gzip) that inflates to 32 MB
- ``/content/NAME``: one of the bodies in ``bodies.CONTENT``
- ``/sitemap-tree/PATH?fanout=N``: a sitemap index listing N (default 10) child indexes
  ``/sitemap-tree/PATH-0`` ... ``PATH-(N-1)``: a tree of indexes without end
- ``/big-feed?entries=N``: an RSS feed of N entries (100,000 make about 10 MB), newest last

The server also answers as an HTTP proxy (``GET http://host/path``): the path selects the
fault as above, and feed links are made absolute on the requested host, so a test can
crawl public-looking URLs without any DNS.
"""

from __future__ import annotations

import functools
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from bodies import CONTENT, GZIP_BOMB, big_feed, feed, page, sitemap_index, story_title

HUGE_SIZE = 50 * 1024 * 1024
CHUNK = 64 * 1024
SLOW_SECONDS = 0.3
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True)
class Hit:
    path: str  # path and query, as requested
    at: float  # time.monotonic() when the request arrived
    user_agent: str


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class FaultServer:
    """Faults on a free port of 127.0.0.1 (or of ``host``, e.g. ``::1``), served from
    background threads."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[Hit] = []
        self.sent: Counter[str] = Counter()  # streamed body bytes written, by path
        self.in_flight = 0  # /slow/ requests being answered now ...
        self.most_in_flight = 0  # ... and the most at any one time
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def feed_url(self, *links: str) -> str:
        """A good feed on this server listing ``links`` (paths or URLs)."""
        return self.url("/feed.xml?" + "&".join(f"link={link}" for link in links))

    def hits_on(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def track(self, change: int) -> None:
        """Count a /slow/ answer starting (+1) or ending (-1)."""
        with self._lock:
            self.in_flight += change
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def record(self, hit: Hit) -> int:
        """Log a request; return how many times this path was requested before."""
        with self._lock:
            before = len(self.hits_on(hit.path))
            self.hits.append(hit)
        return before


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(FaultHandler):
        faults = server

    return Handler


class FaultHandler(BaseHTTPRequestHandler):
    faults: FaultServer
    base = ""  # this request's origin, from its Host header
    hit_path = ""  # this request's path and query

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        hit = Hit(path, time.monotonic(), self.headers.get("User-Agent", ""))
        self.hit_path = path
        previous = self.faults.record(hit)
        self.base = f"http://{self.headers.get('Host', '')}"
        self.route(parts.path, parse_qs(parts.query), previous)

    def route(self, path: str, query: dict[str, list[str]], previous: int) -> None:
        if path.startswith("/throttle/"):
            _, _, seconds, rest = path.split("/", 3)
            if previous == 0:
                self.reply(429, b"slow down", headers={"Retry-After": seconds})
                return
            path = "/" + rest
        first, _, rest = path.lstrip("/").partition("/")
        handler = ROUTES.get(first)
        if handler is None:
            self.reply(404, b"<h1>Not found</h1>", "text/html")
            return
        handler(self, rest, query)

    # -- answers ------------------------------------------------------------------------

    def reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def robots(self, rest: str, query: dict[str, list[str]]) -> None:
        self.reply(200, ROBOTS)

    def feed(self, rest: str, query: dict[str, list[str]]) -> None:
        self.reply(200, feed(self.base, query.get("link", [])), "application/rss+xml")

    def story(self, rest: str, query: dict[str, list[str]]) -> None:
        slug = rest.removesuffix(".html")
        self.reply(200, page(story_title(slug)).encode(), "text/html; charset=utf-8")

    def slow(self, rest: str, query: dict[str, list[str]]) -> None:
        self.faults.track(+1)
        self.faults.stopping.wait(SLOW_SECONDS)
        self.faults.track(-1)
        self.story(rest, query)

    def status(self, rest: str, query: dict[str, list[str]]) -> None:
        headers = {"Retry-After": query["retry_after"][0]} if "retry_after" in query else {}
        self.reply(int(rest), b"error\n", headers=headers)

    def reset(self, rest: str, query: dict[str, list[str]]) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def hang(self, rest: str, query: dict[str, list[str]]) -> None:
        self.faults.stopping.wait(60)
        self.close_connection = True

    def drip(self, rest: str, query: dict[str, list[str]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.stream(lambda: b"<", pause=0.5, limit=100000)

    def loop(self, rest: str, query: dict[str, list[str]]) -> None:
        target = "/loop/b" if rest == "a" else "/loop/a"
        self.reply(302, headers={"Location": self.base + target})

    def chain(self, rest: str, query: dict[str, list[str]]) -> None:
        self.reply(302, headers={"Location": f"{self.base}/chain/{int(rest) + 1}"})

    def short(self, rest: str, query: dict[str, list[str]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "10000")
        self.end_headers()
        self.wfile.write(b"<html><body><p>The first words of a story")
        self.close_connection = True

    def redirect(self, rest: str, query: dict[str, list[str]]) -> None:
        self.reply(302, headers={"Location": query["to"][0]})

    def huge(self, rest: str, query: dict[str, list[str]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if query.get("length") == ["declared"]:
            self.send_header("Content-Length", str(HUGE_SIZE))
        self.end_headers()
        chunk = b"<p>" + b"x" * (CHUNK - 3)
        self.stream(lambda: chunk, pause=0, limit=HUGE_SIZE)
        self.close_connection = True

    def bomb(self, rest: str, query: dict[str, list[str]]) -> None:
        self.reply(200, GZIP_BOMB, "text/html; charset=utf-8", headers={"Content-Encoding": "gzip"})

    def content(self, rest: str, query: dict[str, list[str]]) -> None:
        content_type, body = CONTENT[rest](self.base)
        self.reply(200, body, content_type)

    def sitemap_tree(self, rest: str, query: dict[str, list[str]]) -> None:
        fanout = int(query.get("fanout", ["10"])[0])
        suffix = f"?fanout={fanout}" if "fanout" in query else ""
        children = [f"/sitemap-tree/{rest}-{n}{suffix}" for n in range(fanout)]
        self.reply(200, sitemap_index(self.base, children), "application/xml")

    def big_feed(self, rest: str, query: dict[str, list[str]]) -> None:
        entries = int(query.get("entries", ["200000"])[0])
        self.reply(200, _big_feed(self.base, entries), "application/rss+xml")

    def stream(self, chunk: Callable[[], bytes], *, pause: float, limit: int) -> None:
        """Write chunks until ``limit`` bytes, the client hangs up, or the server stops."""
        key, sent = self.hit_path, 0
        try:
            while sent < limit and not self.faults.stopping.is_set():
                data = chunk()[: limit - sent]
                self.wfile.write(data)
                self.wfile.flush()
                sent += len(data)
                self.faults.sent[key] += len(data)
                if pause:
                    self.faults.stopping.wait(pause)
        except OSError:  # the crawler gave up and closed the connection
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


ROUTES: dict[str, Callable[[FaultHandler, str, dict[str, list[str]]], None]] = {
    "robots.txt": FaultHandler.robots,
    "feed.xml": FaultHandler.feed,
    "story": FaultHandler.story,
    "private": FaultHandler.story,
    "slow": FaultHandler.slow,
    "status": FaultHandler.status,
    "reset": FaultHandler.reset,
    "hang": FaultHandler.hang,
    "drip": FaultHandler.drip,
    "loop": FaultHandler.loop,
    "chain": FaultHandler.chain,
    "short": FaultHandler.short,
    "redirect": FaultHandler.redirect,
    "huge": FaultHandler.huge,
    "bomb": FaultHandler.bomb,
    "content": FaultHandler.content,
    "sitemap-tree": FaultHandler.sitemap_tree,
    "big-feed": FaultHandler.big_feed,
}


@functools.lru_cache(maxsize=2)
def _big_feed(base: str, entries: int) -> bytes:
    return big_feed(base, entries)
