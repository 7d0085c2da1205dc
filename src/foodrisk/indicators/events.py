"""Events of the indicator library. Scoring reacts (indicators never imports scoring) through core.outbox.

`indicator_set_activated`: indicator_set_id (the newly active set), retired_id (the set it replaced, or None), user_id
(who activated it);
emitted inside the activating transaction.
"""

from foodrisk.core import outbox

INDICATOR_SET_ACTIVATED = "indicator_set_activated"


def indicator_set_activated(indicator_set, retired=None, user=None):
    outbox.emit(INDICATOR_SET_ACTIVATED, indicator_set_id=indicator_set.pk,
                retired_id=getattr(retired, "pk", None), user_id=getattr(user, "pk", None))
