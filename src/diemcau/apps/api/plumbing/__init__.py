"""Per-process and per-request plumbing: the ``ApiContext`` and its ``ApiRuntime`` (caches, caller loader,
visibility), identity and access, security headers, the input guard and the heartbeat's fast path."""
