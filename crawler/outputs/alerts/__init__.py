"""Instant alerts (docs/alerts.md): the outbox the recorder fills (``notifications``,
crawler/tracking/alert_events.py) delivered through Apprise to the ``[[notify]]`` targets.

events (outbox rows) -> messages.py (items, rendering, packing) -> delivery.py (Apprise,
marking, retries); formats.py escapes web text for each message format.
"""

from crawler.outputs.alerts.delivery import (
    Delivery,
    deliver,
    failing_targets,
    redact,
    send,
    send_test,
    targets_report,
)

__all__ = [
    "Delivery",
    "deliver",
    "failing_targets",
    "redact",
    "send",
    "send_test",
    "targets_report",
]
