"""Messages of Django itself that its zh_Hans catalogue lacks: marked here so that `make messages` keeps their
translation in ours (it drops every message no source file of the project names)."""

from django.utils.translation import gettext_noop

DJANGO_MESSAGES = (
    gettext_noop("- Select an option -"),  # Django 6.1's blank choice of every select
)
