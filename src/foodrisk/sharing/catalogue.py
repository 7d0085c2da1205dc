"""The share catalogue (共享目录): the datasets other government systems may receive, each with its field
dictionary (label, meaning, sensitivity). Declared here as data; a client's grant names datasets and fields
from it (minimum necessary), and the API sends nothing else. A dataset's version changes when a field's
meaning changes; clients see it in every answer."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PUBLIC, INTERNAL, SENSITIVE = "public", "internal", "sensitive"
SENSITIVITY_LABELS = {PUBLIC: _("public"), INTERNAL: _("internal"), SENSITIVE: _("sensitive (masked unless granted)")}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    sensitivity: str
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    code: str
    label: str
    version: int
    description: str
    fields: tuple

    def field(self, name):
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self):
        return [f.name for f in self.fields]


ENTERPRISE_GRADE = Dataset(
    "enterprise_grade", _("Enterprise credit-risk grade"), 1,
    _("One row per enterprise: identity, current grade and score, risk labels. Incremental pulls follow grade "
      "changes (cursor = the last change number received)."),
    (
        Field("uscc", _("unified social credit code"), PUBLIC),
        Field("name", _("name"), PUBLIC),
        Field("region", _("region code (GB/T 2260)"), PUBLIC),
        Field("business_form", _("business form (code)"), PUBLIC),
        Field("status", _("operating status (code)"), PUBLIC),
        Field("grade", _("credit-risk grade A/B/C/D"), INTERNAL),
        Field("score", _("risk score"), INTERNAL),
        Field("graded_at", _("time of grading (ISO 8601, Beijing time)"), INTERNAL),
        Field("risk_labels", _("risk labels"), INTERNAL),
        Field("key_supervision", _("under key supervision"), INTERNAL),
        Field("legal_representative", _("legal representative"), SENSITIVE),
    ),
)

DATASETS = {d.code: d for d in (ENTERPRISE_GRADE,)}


def dataset_choices():
    return [(d.code, d.label) for d in DATASETS.values()]
