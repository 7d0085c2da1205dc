"""Events of the indicator library. Scoring listens (indicators never imports scoring).

`indicator_set_activated` is sent after commit with indicator_set (the newly active set),
retired (the set it replaced, or None) and user.
"""

from django.dispatch import Signal

indicator_set_activated = Signal()
