"""Events of scoring. Alerts (and other apps above scoring) react through core.outbox; scoring never imports them.

`grade_changed` is queued inside the publishing transaction with either run_id (a scoring run: the changes are
its GradeChange rows, read by the reaction — a full run may change a million grades) or adjustment_id and
changes (a manual adjustment: a list of dicts {enterprise_id, old_grade, new_grade, score}).
"""

from foodrisk.core import outbox

GRADE_CHANGED = "grade_changed"


def run_changed_grades(run):
    outbox.emit(GRADE_CHANGED, run_id=run.pk)


def adjustment_changed_grade(adjustment, change):
    score = change.get("score")
    outbox.emit(GRADE_CHANGED, adjustment_id=adjustment.pk,
                changes=[{**change, "score": None if score is None else float(score)}])
