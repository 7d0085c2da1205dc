"""The first installation's indicator set (`make demo`: demo_data → bootstrap_profile) shows its change note on
the set's page, where the indicator administrator starts his first week (issue 13). The note is written in
English ("bootstrap (first installation)") by indicators.services.bootstrap_profile; that module's transitions are
being moved to the core workflow, so the one-line fix (note=_("…") with a translation) waits for that change."""

import pytest

from foodrisk.core.testing import english_words
from foodrisk.indicators import services as isvc

pytestmark = pytest.mark.django_db


@pytest.mark.xfail(strict=True, reason="bootstrap_profile writes its change note in English (issue 13)")
def test_the_bootstrap_note_reads_in_chinese():
    s = isvc.bootstrap_profile("food_2016")
    assert s.change_note and not english_words(s.change_note), s.change_note
