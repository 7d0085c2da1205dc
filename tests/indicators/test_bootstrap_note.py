"""The first installation's indicator set (`make demo`: demo_data → bootstrap_profile) shows its change note on
the set's page, where the indicator administrator starts his first week (issue 13): in Chinese."""

import pytest
from django.utils import translation

from foodrisk.core.testing import english_words
from foodrisk.indicators import services as isvc

pytestmark = pytest.mark.django_db


def test_the_bootstrap_note_reads_in_chinese():
    with translation.override("zh-hans"):
        s = isvc.bootstrap_profile("food_2016")
    assert s.change_note and not english_words(s.change_note), s.change_note
