"""Where presswatch's log lines go: stderr always, a rotating file on request."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(*, verbose: bool = False, quiet: bool = False,
                  log_file: Path | None = None) -> str:
    """Configure the root logger; return the level name the crawl should log at.

    Quiet: errors only (cron mails any output). Verbose: what the crawler does.
    Default: warnings. A log file rotates at 10 MB, five files kept, and always
    records at least INFO so a quiet cron job still leaves a trail.
    """
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    root.setLevel(logging.INFO if log_file else level)
    stderr = logging.StreamHandler()
    stderr.setLevel(level)
    stderr.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(stderr)
    if log_file is not None:
        rotating = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
        rotating.setLevel(logging.INFO)
        rotating.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(rotating)
    return logging.getLevelName(min(level, logging.INFO) if log_file else level)
