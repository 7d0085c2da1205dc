"""Events of scoring. Alerts, supervision and sharing listen; scoring never imports them.

`grade_changed` is sent after the publishing transaction commits, with
run (the ScoringRun, or None for a manual adjustment), adjustment (or None) and
changes: a list of dicts {enterprise_id, old_grade, new_grade, score}.
"""

from django.dispatch import Signal

grade_changed = Signal()
