"""One readable line for each way a download can fail.

These lines are what the ``errors`` table records; docs/reliability.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

SIZE_LIMIT = "larger than the size limit ([crawl] max_page_size_mb)"

_TOO_LARGE = re.compile(
    r"(Expected to receive|Received) (\d+) bytes which is larger than "
    r"download max size \((\d+)\)"
)
_BOMB = re.compile(
    r"\((\d+) B compressed, (\d+) B decompressed so far\) exceeded "
    r"DOWNLOAD_MAXSIZE \((\d+) B\)"
)
_SECONDS = re.compile(r"took longer than ([\d.]+) seconds")
_IGNORED = {
    "Forbidden by robots.txt": "refused by the site's robots.txt",
    "max redirections reached": "too many redirects",
}


def describe_failure(failure: Failure) -> str:
    """``HTTP 404 Not Found``, ``connection refused``, ``refused by the site's robots.txt``,
    ``timed out: no complete answer within 30 s ([crawl] timeout)``, ..."""
    error = failure.value
    for kinds, describe in _DESCRIBERS:
        if isinstance(error, kinds):
            return describe(error)
    return f"{type(error).__name__}: {error}".rstrip(": ")


def _http_error(error: HttpError) -> str:
    status = error.response.status
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}".strip()


def _ignored(error: Exception) -> str:
    message = str(error)
    if match := _BOMB.search(message):
        compressed, _, limit = match.groups()
        return (
            f"{SIZE_LIMIT} once decompressed: {compressed} compressed bytes inflate past "
            f"the limit of {limit} bytes"
        )
    return _IGNORED.get(message, message or "refused")


def _too_large(error: Exception) -> str:
    match = _TOO_LARGE.search(str(error))
    if match is None:
        return f"{SIZE_LIMIT}: cut off while downloading"
    how, size, limit = match.groups()
    verb = "declared" if how.startswith("Expected") else "received"
    return f"{SIZE_LIMIT}: {size} bytes {verb}, the limit is {limit}"


def _timed_out(error: Exception) -> str:
    match = _SECONDS.search(str(error))
    if match is None:
        return "timed out"
    return f"timed out: no complete answer within {float(match[1]):g} s ([crawl] timeout)"


def _dns(error: Exception) -> str:
    message = str(error).removeprefix("DNS lookup failed: ").strip()
    message = message.replace("no results for hostname lookup: ", "no address for ").rstrip(".")
    return f"DNS lookup failed: {message}".rstrip(": ") if message else "DNS lookup failed"


def _connection_failed(error: Exception) -> str:
    failed = error.__cause__ if isinstance(error, DownloadFailedError) else error
    reasons = [reason.value for reason in getattr(failed, "reasons", [])]
    if not reasons or any(isinstance(r, ConnectionLost | ConnectionDone) for r in reasons):
        return "connection lost: the server closed or reset the connection before answering"
    details = "; ".join(str(reason) or type(reason).__name__ for reason in reasons)
    return f"connection failed: {details}"


def _fixed(message: str) -> Callable[[Exception], str]:
    return lambda error: message


_DESCRIBERS: list[tuple[tuple[type[Exception], ...], Callable[..., str]]] = [
    ((HttpError,), _http_error),
    ((IgnoreRequest,), _ignored),
    ((DownloadCancelledError,), _too_large),
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), _timed_out),
    ((CannotResolveHostError, DNSLookupError), _dns),
    ((DownloadConnectionRefusedError, ConnectionRefusedError), _fixed("connection refused")),
    (
        (ResponseDataLossError,),
        _fixed("incomplete answer: the connection closed before the whole body arrived"),
    ),
    (
        (DownloadFailedError, ResponseFailed, ResponseNeverReceived, ConnectionLost),
        _connection_failed,
    ),
    ((UnsupportedURLSchemeError, NotSupported), _fixed("refused: only http and https are fetched")),
]
