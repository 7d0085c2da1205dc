"""What scoring writes for people reads in Chinese (issue 13, "job outputs … candidate stored"): the stages a
scoring or training job reports, the title of the rescoring job an activation starts, the model card's model
kind, its row counts and metrics. And the training form asks only for a history the training can use."""

from types import SimpleNamespace

import pytest
from django.utils import translation
from model_testkit import load_world, trained_candidate
from scoring_testkit import ALL_SCORING_PERMS, activate_profile, make_user, people

from foodrisk.core.testing import english_words
from foodrisk.scoring import handlers, model_services
from foodrisk.scoring.model_views import model_kind, training_rows
from foodrisk.scoring.tasks import STAGES, stage_label


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def test_job_stages_are_labelled():
    for code in [*STAGES, "snapshot 2026-03-31"]:
        assert not english_words(stage_label(code)), code
    assert stage_label("candidate stored") == "候选模型已保存"
    assert stage_label("snapshot 2026-03-31") == "读取 2026-03-31 的档案快照"
    assert stage_label("120/400") == "120/400"  # an import's row count stays as it is


@pytest.mark.parametrize("winner, method", [("logistic", "platt"), ("lightgbm", "isotonic"), ("lightgbm", "none")])
def test_the_model_kind_is_named_in_chinese(winner, method):
    kind = model_kind(SimpleNamespace(winner=winner, calibrator={"method": method}))
    assert kind and not english_words(kind), kind
    assert training_rows({"train": 3730, "calibration": 800, "holdout": 640}) == [
        ("训练", 3730), ("校准", 800), ("留出验证", 640)]


@pytest.mark.django_db
def test_the_rescoring_after_an_activation_has_a_chinese_title():
    author, approver = people()
    active = activate_profile(author, approver)  # its reaction waits for the commit: no job yet
    job_id = handlers.on_indicator_set_activated(indicator_set_id=active.pk, user_id=approver.pk)["job"]
    from foodrisk.core.models import Job

    assert Job.objects.get(pk=job_id).title == f"启用 {active.code} v{active.version} 后的全量评分"


@pytest.mark.django_db
def test_the_model_card_has_no_english(client):
    author, approver = people()
    activate_profile(author, approver)
    load_world()
    trainer = make_user("trainer", None, "scoring.view_modelversion", "scoring.add_modelversion", *ALL_SCORING_PERMS,
                        national=True)
    mv = trained_candidate(trainer)
    client.force_login(trainer)
    page = client.get(mv.get_absolute_url()).content.decode()
    assert "基尼系数" in page and "训练 " in page
    assert not english_words(page, allowed={"trainer"}), english_words(page)
    logistic = model_services.load_artifact(mv).winner == "logistic"
    assert ("棵树" in page) != logistic  # trees and depth only for the boosted trees


def test_the_training_form_asks_for_a_history_the_folds_can_use():
    """The page offered 16 months; training then failed in the engine (16–22 months on the demo city) with an
    English message. The form's minimum is what the validation folds need with their defaults."""
    from foodrisk.scoring.model_views import TrainForm

    assert not TrainForm({"months": 16}).is_valid()
    assert TrainForm({"months": 24}).is_valid()


def test_training_failures_read_in_chinese():
    """The engine says why it could not train in English; the job and the page say it in Chinese."""
    from django.utils import translation

    from foodrisk.core.testing import english_words
    from foodrisk.scoring.model_services import training_problem

    with translation.override("zh-hans"):
        for text in ("not enough history for rolling-origin validation (no candidate could be fitted on 3 folds "
                     "before 2026-01-01); give a longer archive or shorter horizons",
                     "need at least three as-of dates for a train / calibration / hold-out split",
                     "something the engine never said before"):
            message = str(training_problem(ValueError(text)))
            assert message and not english_words(message), message
