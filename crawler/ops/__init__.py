"""Running presswatch: the scheduler, status, logs, progress, child-process lifetimes."""
