"""Registry of job kinds. An app registers a function; `services.jobs.start` runs it in the worker.

    @jobs.register("scoring.full", _("Full scoring run"), queue="scoring")
    def full_run(job, as_of=None): ...   # job is a JobContext

The function reports progress with job.progress(done, total), writes job.log(...), returns a
JSON-able result, and may attach a file with job.attach(name, bytes). retry=True: a run whose worker died may
simply run again (its work is atomic or idempotent); otherwise such a job is marked failed.
"""

from dataclasses import dataclass

_registry = {}


@dataclass(frozen=True)
class JobKind:
    code: str
    title: str
    func: object
    queue: str = "default"
    permission: str = ""
    # exceptions whose text is written for the person (in Chinese): a failed job shows it; any other exception
    # shows a general message, its traceback kept for administrators and the log
    user_errors: tuple = ()
    retry: bool = False  # safe to run again after its worker died mid-run (atomic or idempotent work)


def register(code, title, *, queue="default", permission="", user_errors=(), retry=False):
    def decorator(func):
        _registry[code] = JobKind(code, title, func, queue, permission, tuple(user_errors), retry)
        return func

    return decorator


def get(code):
    try:
        return _registry[code]
    except KeyError:
        raise KeyError(f"unknown job kind: {code}") from None


def kinds():
    return dict(sorted(_registry.items()))
