"""An alert's evidence values on its page: each with a label (a parameter's label and display, or the name of
a computed value), never the code name the rule stored ("days_overdue", "complaints")."""

from django.utils import translation

from foodrisk.alerts.params import evidence_values


def rows(kind, values):
    with translation.override("en"):
        return [(str(label), str(value)) for label, value in evidence_values(kind, values)]


def test_parameters_read_with_their_label_and_display():
    assert rows("indicator_jump", {"record_kind": "complaints", "factor": 3, "current": 7, "previous": 2}) == [
        ("Records counted", "complaint"), ("Factor", "3"), ("Current period", "7"), ("Previous period", "2")]
    assert rows("licence_expiring", {"days_left": 12, "within_days": 30}) == [
        ("Days left", "12"), ("Days before expiry", "30")]


def test_computed_values_read_with_their_name():
    assert rows("licence_expired", {"days_overdue": 1434}) == [("Days overdue", "1434")]
    assert rows("repair_lapsed", {"days_pending": 40, "limit_days": 30}) == [
        ("Days pending", "40"), ("Time limit (days)", "30")]
    assert rows("complaint_cluster", {"count": 4, "days": 30, "threshold": 3}) == [
        ("Number of complaints", "4"), ("Days", "30"), ("threshold", "3")]


def test_an_unknown_value_is_shown_as_stored():
    assert rows("new_penalty", {"something": 1}) == [("something", "1")]
    assert rows("new_penalty", None) == []
