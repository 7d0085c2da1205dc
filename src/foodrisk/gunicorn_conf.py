"""Gunicorn settings for the web nodes: ``gunicorn -c python:foodrisk.gunicorn_conf foodrisk.wsgi``.

Every value can be overridden on the command line or with the FOODRISK_WEB_* variables below.
"""

import os
from pathlib import Path

bind = os.environ.get("FOODRISK_WEB_BIND", "127.0.0.1:8000")
# Sync worker processes, 2 per core + 1 (gunicorn's rule of thumb): a page view is CPU-bound Python (template
# and table rendering ≈ 60-70 % of its CPU), so threads in one process would queue on the GIL; a few more
# processes than cores keep the cores busy while requests wait on PostgreSQL and Redis. Under load on 2 cores,
# 4 sync workers and 2 gthread workers × 4 threads served the same rate (benchmarks/results/load-20k-*.json):
# the ceiling is the CPU per page, not the worker model.
workers = int(os.environ.get("FOODRISK_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1))
worker_class = os.environ.get("FOODRISK_WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("FOODRISK_WEB_THREADS", 1))
timeout = int(os.environ.get("FOODRISK_WEB_TIMEOUT", 120))  # large exports run as jobs, not in a request
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # a slow leak cannot grow without bound; jitter keeps the workers from recycling together
max_requests_jitter = 200
accesslog = None  # the application writes one JSON access line per request (foodrisk.access)
errorlog = "-"

# prometheus-client's multiprocess mode: each worker writes its request metrics to files here and /metrics
# adds them up. Set before the workers fork (and before prometheus_client is imported anywhere).
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(os.environ.get("FOODRISK_VAR_DIR", Path.cwd() / "var")) / "prometheus"),
)
Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
