"""Production server settings: gevent workers hold thousands of idle SSE streams each."""
import multiprocessing
import os

bind = os.environ.get("FAIRSITE_BIND", "127.0.0.1:8000")
worker_class = "gevent"
# One process suffices for the embedded tier (SQLite, in-process pub/sub). With Redis and
# PostgreSQL configured, run one per core.
workers = int(os.environ.get("FAIRSITE_WORKERS", "1" if not os.environ.get("FAIRSITE_REDIS_URL") else multiprocessing.cpu_count()))
# The default of 1,000 stalls a worker at the 1,001st live viewer.
worker_connections = int(os.environ.get("FAIRSITE_WORKER_CONNECTIONS", "12000"))
# SSE streams are long-lived; gevent workers are not killed for an idle stream.
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("FAIRSITE_ACCESS_LOG") or None
errorlog = "-"
control_socket_disable = True
