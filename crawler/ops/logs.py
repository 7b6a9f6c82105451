"""Where presswatch's log lines go, and what they look like.

Lines are for people: one per event that matters (a pass started or finished, a source
failed, a page failed), each naming what failed and why. presswatch's own loggers
(``presswatch.*``) write them. The libraries underneath (Scrapy, Twisted, APScheduler)
are heard only with ``--verbose``; without it, their errors still show, as one line
without the traceback, except those presswatch already reports in its own words
(robots.txt and retry failures, which end as the fetch error of their page or source).
Nothing ever logs an item or a page body (crawler.ops.logformatter).

``--log-format json`` writes one JSON object per line instead, for journald or Loki.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
OURS = ("presswatch", "crawler", "spiders", "pipelines")
# Failures presswatch records and logs itself, as the error of the page or source.
SAID_ELSEWHERE = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.downloadermiddlewares.retry")
MAX_LINE = 500
HANDLER_NAME = "presswatch"  # the handlers setup_logging installs (a second call replaces them)
ROTATE_BYTES, ROTATE_KEEP = 10 * 1024 * 1024, 5


class LogFileError(ValueError):
    """The --log-file cannot be written: its folder cannot be made, or it cannot be opened."""


class OneLine(logging.Filter):
    """Without --verbose: presswatch's own lines, and other libraries' errors as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".", 1)[0] in OURS and not record.name.startswith(SAID_ELSEWHERE)
        if not ours and (record.levelno < logging.ERROR or record.name.startswith(SAID_ELSEWHERE)):
            return False
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None and not ours:
            error = record.exc_info[1]
            message = f"{message}: {type(error).__name__}: {error}"
        record.msg, record.args = one_line(message), None
        record.exc_info = record.exc_text = None
        record.stack_info = None
        return True


def one_line(text: str) -> str:
    """``text`` on one line, at most MAX_LINE characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 1] + "…"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message[, traceback]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import UTC, datetime

        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def setup_logging(
    *, verbose: bool = False, quiet: bool = False, log_file: Path | None = None, fmt: str = "text"
) -> str:
    """Configure the root logger; return the level name the crawl should log at.

    Default: presswatch's INFO lines and other libraries' errors, one line each.
    Quiet: errors only (cron mails any output): a failed pass, a source that started
    failing. Verbose: everything, tracebacks and Scrapy's stats included. A log file
    (its folder is created) rotates at 10 MB, five files kept, and always records at
    least INFO, so a quiet cron job still leaves a trail. Raises LogFileError.
    """
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    handlers[0].setLevel(level)
    if log_file is not None:
        handlers.append(_file_handler(log_file))
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        if not verbose:
            handler.addFilter(OneLine())
        handler.set_name(HANDLER_NAME)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return "INFO" if verbose else "WARNING"


def _file_handler(path: Path) -> logging.Handler:
    import logging.handlers  # only with --log-file (every command imports this module)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP, encoding="utf-8"
        )
    except OSError as error:
        raise LogFileError(f"--log-file {path}: {error.strerror or error}") from None
    handler.setLevel(logging.INFO)
    return handler
