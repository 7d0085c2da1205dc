from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ColumnChoice(models.Model):
    """The columns a person chose to see on a list page (its table's key); absent = the default of his role.
    Written through core.services.preferences; a preference, not a key operation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="column_choices")
    table = models.CharField(_("list page"), max_length=100)
    columns = models.JSONField(_("columns"), default=list)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("column choice")
        verbose_name_plural = _("column choices")
        constraints = [models.UniqueConstraint(fields=["user", "table"], name="column_choice_one_per_user_list")]
        default_permissions = ()  # each person's own, through the list page; nobody reads another's

    def __str__(self):
        return f"{self.user} · {self.table}"
