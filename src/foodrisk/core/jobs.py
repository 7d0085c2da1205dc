"""Registry of job kinds. An app registers a function; `services.jobs.start` runs it in the worker.

    @jobs.register("scoring.full", _("Full scoring run"), queue="scoring")
    def full_run(job, as_of=None): ...   # job is a JobContext

The function reports progress with job.progress(done, total), writes job.log(...), returns a
JSON-able result, and may attach a file with job.attach(name, bytes). retry=True: a run whose worker died may
simply run again (its work is atomic or idempotent); otherwise such a job is marked failed.
"""

import inspect
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

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


# Chinese names of the parameters job functions take (a schedule's parameters are chosen by these)
PARAM_LABELS = {
    "as_of": _("as-of date"), "today": _("as-of date"), "months": _("training months"),
    "horizon_months": _("horizon (months)"), "seed": _("random seed"), "threads": _("threads"),
    "out": _("output folder"), "include_media": _("include uploaded files"), "target": _("target model"),
    "enterprise_ids": _("enterprises"), "kind": _("kind"), "run_id": _("scoring run"),
    "grade_changes": _("grade changes"), "batch_id": _("import batch"), "indicator_set": _("indicator set"),
    "request": _("export request"), "report": _("report"), "region": _("region"),
    "business_form": _("business form"), "topic": _("topic"),
    "export": _("exchange export"), "client": _("client system"), "dataset": _("dataset"), "fmt": _("file format"),
}


def param_choices(code, extra=()):
    """(name, label) of the keyword parameters of a job kind's function (after `job`), then the names in
    `extra` it does not know (kept so that a stored schedule shows what it has)."""
    try:
        func = get(code).func
    except KeyError:
        names = []
    else:
        names = [p.name for p in list(inspect.signature(func).parameters.values())[1:]
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    names += [n for n in extra if n not in names]
    return [(n, PARAM_LABELS.get(n, n)) for n in names]
