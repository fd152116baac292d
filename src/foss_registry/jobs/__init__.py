"""Background jobs: a table-backed queue with leases, retries and workers."""
