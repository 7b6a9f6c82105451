"""``presswatch verify``: show that no stored version, and no archived page, was altered or
removed after it was recorded.

Every version's chain hash is recomputed from the versions before it
(crawler.tracking.evidence), and every archived body is hashed again and compared with
the SHA-256 its version recorded. Versions stored before presswatch recorded chain hashes
are counted as unsealed, not as broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from crawler.storage.archive import Archive, sha256
from crawler.storage.store import Store
from crawler.tracking.evidence import chain_hash


@dataclass
class Report:
    articles: int = 0
    versions: int = 0
    unsealed: int = 0  # stored before chain hashes were recorded
    archived: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, naming the article

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verdict = "intact" if self.ok else f"{len(self.problems)} problem(s)"
        return (
            f"verified {self.versions} version(s) of {self.articles} article(s), "
            f"{self.archived} archived response(s), {self.unsealed} unsealed "
            f"(stored before chain hashes): {verdict}"
        )


def verify(store: Store, article_id: int | None = None) -> Report:
    """Check the chain of every article (or one) and every archived body."""
    report = Report()
    labels = store.article_labels()
    bodies: dict[int, str | None] = {}
    records = store.version_records(article_id)
    for article, versions in groupby(records, key=lambda row: row["article_id"]):
        report.articles += 1
        _check_chain(article, labels.get(article, "?"), list(versions), report, bodies)
    archive = Archive.attach(store, create=False)
    if archive is not None:
        _check_archive(archive, labels, bodies, report, article_id)
    return report


def _check_chain(
    article: int,
    label: str,
    versions: Iterable[dict[str, Any]],
    report: Report,
    bodies: dict[int, str | None],
) -> None:
    previous: str | None = None
    sealed = broken = False
    for row in versions:
        report.versions += 1
        bodies[row["id"]] = row["body_sha256"]
        if broken:  # one line per article: the first version that fails
            continue
        if row["chain_hash"] is None:
            if sealed:
                report.problems.append(
                    f"article {article} ({label}): version {row['id']} lost its chain hash"
                )
                broken = True
            else:
                report.unsealed += 1
            continue
        sealed = True
        if chain_hash(previous, row) != row["chain_hash"]:
            report.problems.append(
                f"article {article} ({label}): version {row['id']} does not match its chain "
                "hash: it, or a version before it, was altered or removed"
            )
            broken = True
        previous = row["chain_hash"]


def _check_archive(
    archive: Archive,
    labels: dict[int, str],
    bodies: dict[int, str | None],
    report: Report,
    article_id: int | None,
) -> None:
    for response in archive.responses(article_id):
        report.archived += 1
        where = f"article {response.article_id} ({labels.get(response.article_id, '?')})"
        if response.version_id not in bodies:
            report.problems.append(
                f"{where}: archived response of version {response.version_id}, "
                "which is not in the database"
            )
        elif sha256(response.body) != bodies[response.version_id]:
            report.problems.append(
                f"{where}: the archived body of version {response.version_id} does not "
                "match the SHA-256 its version recorded"
            )
