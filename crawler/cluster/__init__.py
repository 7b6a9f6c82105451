"""presswatch on several machines: ``enqueue`` puts a pass's requests on a Redis frontier,
any number of ``worker`` processes fetch, extract and match them, and one ``ingest`` writes
what they find to SQLite. docs/scaling.md has the design; docs/architecture.md the modules."""

DEFAULT_HEARTBEAT = 30.0  # idle seconds after which a process's held work is taken over
