"""Structured logs: one JSON object per line, carrying the request id of the request (or job) it belongs to.

A formatter of our own rather than python-json-logger: the fields are few and fixed (time, level, logger,
message, request id, exception, and whatever a caller passes in ``extra``), and the standard library's
``json`` writes them; a dependency would add configuration surface, not capability.
"""

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from . import context

# A client's X-Request-ID is believed only when it looks like an id: it ends up in logs and the audit log.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")

# The attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request"}


def request_id_from(headers):
    """The caller's X-Request-ID when it is a plausible id, otherwise a new one."""
    given = headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Django's own request logging (django.request, 4xx/5xx) runs outside the middleware that sets the
        # actor, but passes the request along.
        request = getattr(record, "request", None)
        request_id = getattr(request, "request_id", "") or context.current().request_id
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
