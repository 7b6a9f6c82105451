"""Change tracking: normalised texts, diffs, near-duplicates, re-visits, recorded rows."""
