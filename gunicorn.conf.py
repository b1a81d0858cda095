"""Production server settings: gevent workers hold thousands of idle SSE streams each."""
import multiprocessing
import os

bind = os.environ.get("FAIRSITE_BIND", "127.0.0.1:8000")
worker_class = "gevent"
# One process suffices for the embedded tier (SQLite, in-process pub/sub). With Redis and
# PostgreSQL configured, run one per core.
workers = int(os.environ.get("FAIRSITE_WORKERS", "1" if not os.environ.get("FAIRSITE_REDIS_URL") else multiprocessing.cpu_count()))
# The default of 1,000 stalls a worker at the 1,001st live viewer.
# Sized for a live session: 10,000 viewer streams measured at ~25 KB each (bench/live_viewers.py),
# with room for the ordinary requests beside them. Needs `ulimit -n` above it.
worker_connections = int(os.environ.get("FAIRSITE_WORKER_CONNECTIONS", "12000"))
# SSE streams are long-lived; gevent workers are not killed for an idle stream.
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("FAIRSITE_ACCESS_LOG") or None
errorlog = "-"
control_socket_disable = True


def on_starting(server):
    """Each viewer stream holds a socket: raise the open-files limit (soft, up to the hard
    limit) so a worker can reach worker_connections."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = worker_connections + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def post_worker_init(worker):
    """A pause of the cyclic garbage collector delays every stream of the worker at once. The
    application's own objects (imports, templates) never become garbage: freeze them out of
    the collections; and collect the oldest generation less often (streams make few cycles)."""
    import gc
    import sys
    import time

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)

    if os.environ.get("FAIRSITE_GC_LOG"):
        started = {}

        def log(phase, info):
            if phase == "start":
                started["t"] = time.perf_counter()
            else:
                ms = (time.perf_counter() - started.get("t", time.perf_counter())) * 1000
                if ms > 20:
                    print(f"gc gen{info['generation']} {ms:.0f} ms collected {info['collected']}", file=sys.stderr, flush=True)

        gc.callbacks.append(log)
