from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Generate a synthetic city (import files, ground truth). See `foodrisk synth --help`."

    def run_from_argv(self, argv):
        from foodrisk.synth.cli import main

        raise SystemExit(main(argv[2:]))
