"""``presswatch export warc``: the archived evidence as a standard WARC 1.1 file.

For each archived version: a ``request`` record (the GET presswatch made), a ``response``
record with the stored decoded body (Content-Encoding and Transfer-Encoding dropped,
Content-Length set to the body's length, so the record is what it says; warcio writes
``WARC-Payload-Digest`` over that body), and a ``metadata`` record (JSON: article id,
version number, change kinds and significance, SHA-256 of the body, chain hash) that
refers to the response. Opens in pywb and ReplayWeb.page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.storage.archive import Archive, Response

DROPPED = {"content-encoding", "transfer-encoding", "content-length"}
SOFTWARE = "presswatch"


class ExportError(ValueError):
    """Nothing can be exported: no archive file, or nothing in it matches."""


@dataclass(frozen=True)
class ExportResult:
    versions: int
    path: Path


def export_warc(
    archive: Archive | None,
    output: Path,
    article_ids: Sequence[int] = (),
    topic: str | None = None,
    since: str | None = None,
) -> ExportResult:
    """Write the archived versions selected to ``output`` (gzipped per record when the
    name ends in ``.gz``)."""
    if archive is None:
        raise ExportError("no archive file beside the database: set [archive] keep")
    count = 0
    with output.open("wb") as stream:
        writer = WARCWriter(stream, gzip=output.suffix == ".gz", warc_version="1.1")
        _warcinfo(writer)
        for response, facts in archive.evidence(article_ids, topic, since):
            write_version(writer, response, facts)
            count += 1
    return ExportResult(count, output)


def _warcinfo(writer: WARCWriter) -> None:
    writer.write_record(
        writer.create_warcinfo_record("presswatch-export.warc", {"software": SOFTWARE})
    )


def write_version(writer: WARCWriter, response: Response, facts: dict[str, Any]) -> None:
    date = _warc_date(response.fetched_at)
    request = writer.create_warc_record(
        response.url,
        "request",
        http_headers=_request_headers(response.url),
        warc_headers_dict={"WARC-Date": date},
    )
    record = writer.create_warc_record(
        response.url,
        "response",
        payload=BytesIO(response.body),
        length=None,
        http_headers=response_headers(response),
        warc_headers_dict={"WARC-Date": date},
    )
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    request.rec_headers.add_header("WARC-Concurrent-To", record_id)
    writer.write_record(record)
    writer.write_record(request)
    metadata = {
        "article_id": response.article_id,
        "version_id": response.version_id,
        **facts,
        "body_sha256": response.body_sha256,
    }
    writer.write_record(
        writer.create_warc_record(
            response.url,
            "metadata",
            payload=BytesIO(json.dumps(metadata, ensure_ascii=False).encode("utf-8")),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": record_id},
        )
    )


def response_headers(response: Response) -> StatusAndHeaders:
    """The archived headers, made true of the stored body: no content or transfer
    encoding, its own length."""
    kept = [(name, value) for name, value in response.headers if name.lower() not in DROPPED]
    kept.append(("Content-Length", str(len(response.body))))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    return StatusAndHeaders(f"{response.status} {reason}".strip(), kept, protocol="HTTP/1.1")


def _request_headers(url: str) -> StatusAndHeaders:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return StatusAndHeaders(
        f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True
    )


def _warc_date(moment: str) -> str:
    """WARC-Date: ISO 8601 UTC, as presswatch stores times."""
    return moment if moment.endswith("Z") else f"{moment}Z"
