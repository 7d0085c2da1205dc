"""Who is acting, from where: set per request (or per job) and read by the audit service."""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user: object = None
    ip: str | None = None
    request_id: str = ""


_NOBODY = Actor()
_actor = contextvars.ContextVar("foodrisk_actor", default=None)


def current():
    return _actor.get() or _NOBODY


@contextmanager
def acting(user=None, ip=None, request_id=None):
    token = _actor.set(Actor(user=user, ip=ip, request_id=request_id or uuid.uuid4().hex))
    try:
        yield
    finally:
        _actor.reset(token)


def authenticated(user):
    """The request's user is known only now (an API token, read after the middleware set the actor): the audit
    entries of the rest of the request name them. The middleware's `acting` block restores the actor after."""
    actor = current()
    _actor.set(Actor(user=user, ip=actor.ip, request_id=actor.request_id))
