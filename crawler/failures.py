"""One readable line for each way a download can fail."""

from __future__ import annotations

from http import HTTPStatus

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

_MESSAGES = {
    DNSLookupError: "DNS lookup failed",
    ConnectionRefusedError: "connection refused",
    TimeoutError: "timed out",
    TCPTimedOutError: "connection timed out",
    ConnectionLost: "connection lost",
}


def describe_failure(failure: Failure) -> str:
    """``HTTP 404 Not Found``, ``timed out``, ``connection refused``, ..."""
    error = failure.value
    if isinstance(error, HttpError):
        response = error.response
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        return f"HTTP {response.status} {phrase}".strip()
    for kind, message in _MESSAGES.items():
        if isinstance(error, kind):
            return f"{message}: {error}".rstrip(": ") if str(error) else message
    if isinstance(error, ResponseFailed | ResponseNeverReceived):
        reasons = "; ".join(r.getErrorMessage() for r in getattr(error, "reasons", []))
        return f"connection failed: {reasons or type(error).__name__}"
    return f"{type(error).__name__}: {error}".rstrip(": ")
