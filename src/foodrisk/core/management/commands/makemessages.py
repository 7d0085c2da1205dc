"""makemessages that also extracts N_("…") and _lazy("…"): indicators.services marks its engine messages with
gettext_noop imported as N_, ingest.views uses gettext_lazy as _lazy; xgettext knows neither name, so `make
messages` dropped those strings as obsolete."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_", "--keyword=_lazy"]
