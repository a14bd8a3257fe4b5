"""What lets the people who run the service watch it (docs/operations.md): the request id that
is a client's ticket and joins the log lines of a call to those of its validation
(`context`, `celery_signals`), the Prometheus metrics (`metrics`, `exposition`, `collectors`),
the request middleware (`middleware`) and the health checks (`health`).

Cross-cutting, so it lives in `config/`: the gateways and the core increment the counters of
`metrics` and note what they know in `context`, which import nothing of theirs; only
`collectors` and `health` read the core, through its selectors.
"""
