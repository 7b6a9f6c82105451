"""Serve a folder of news-site files on 127.0.0.1: the demo's site and the tests' sites.

A file may contain the placeholder ``{{BASE}}``; it is replaced by the server's base URL
(``http://127.0.0.1:PORT``) so feeds can carry absolute links. A ``_redirects.txt`` at
the root lists ``PATH STATUS [TARGET]`` lines (``/old.html 301 /new.html``,
``/gone.html 410``). Responses carry an ETag and honour ``If-None-Match`` with a 304.
The root can be switched while serving, to publish a new edition of a site.

With a ``public_base`` (``http://demo.presswatch.test``), the server also answers as that
site: a request naming its host (an HTTP proxy request, or its Host header) gets pages
whose ``{{BASE}}`` is the public base, so a crawler pointed at the server as its proxy
sees the same URLs whatever the port.
"""

from __future__ import annotations

import hashlib
import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"{{BASE}}"
TYPES = {
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class LocalSite:
    """A static site on a free loopback port, served from a background thread."""

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        public_base: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.public_base = public_base
        self.requests: list[tuple[str, int]] = []  # (path, status) of every request
        self.request_headers: list[tuple[str, dict[str, str]]] = []  # (path, headers) of each
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def start(self) -> LocalSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def redirects(self) -> dict[str, tuple[int, str | None]]:
        rules: dict[str, tuple[int, str | None]] = {}
        path = self.root / "_redirects.txt"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) >= 2 and not line.startswith("#"):
                    rules[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else None)
        return rules

    def base_for(self, host_header: str | None) -> str:
        """The base URL a request is for: the public base when it names that host."""
        if (
            self.public_base
            and host_header
            and (urlsplit(self.public_base).netloc == host_header.strip().lower())
        ):
            return self.public_base
        return self.base_url

    def respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a GET of ``path``."""
        return self.respond_as(self.base_url, path)

    def respond_as(self, base: str, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a GET of ``path`` on the site at ``base``."""
        status, target = self.redirects().get(path, (200, None))
        if target is not None:
            return status, {"Location": base + "/" + target.lstrip("/")}, b""
        if status != 200:
            return status, {"Content-Type": "text/plain"}, b"gone\n"
        file = (self.root / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_file() or not file.is_relative_to(self.root.resolve()):
            return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"
        body = file.read_bytes().replace(PLACEHOLDER, base.encode())
        content_type = TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
        return 200, {"Content-Type": content_type or "application/octet-stream"}, body


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up before the whole answer is sent (as a crawler that
        needed only the status line may) is no error of the site's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            base = site.base_for(self.headers.get("Host"))
            if base == site.base_url:
                status, headers, body = site.respond(path)
            else:
                status, headers, body = site.respond_as(base, path)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if status == 200:
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
            site.requests.append((path, status))
            site.request_headers.append((path, dict(self.headers.items())))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
