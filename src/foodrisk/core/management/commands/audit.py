from django.core.management.base import BaseCommand, CommandError

from foodrisk.core.services import audit


class Command(BaseCommand):
    help = ("Audit log tools. `foodrisk audit verify` recomputes the keyed hash chain, checks it against the "
            "signed checkpoints and names the first broken entry; `foodrisk audit checkpoint` verifies the "
            "entries added since the last checkpoint and appends a signed one (run it once after upgrading "
            "from the un-keyed chain; the schedule 「审计链检查点」 runs it hourly).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint"])

    def handle(self, *args, action="verify", **options):
        if action == "checkpoint":
            try:
                payload = audit.checkpoint()
            except audit.AuditChainBroken as exc:
                raise CommandError(f"no checkpoint written: {exc}") from None
            self.stdout.write(self.style.SUCCESS(
                f"checkpoint written to {audit.checkpoint_path()}: {payload['count']} entries, "
                f"head {payload['head'][:16]}…"))
            return
        result = audit.verify()
        if not result.ok:
            at = f" at entry #{result.broken_seq}" if result.broken_seq else ""
            raise CommandError(f"audit chain BROKEN{at}: {result.reason} "
                               f"({result.checked} entries before it verified)")
        if result.latest_checkpoint:
            anchored = (f"against {result.checkpoints} signed checkpoints (latest: {result.latest_checkpoint['count']} "
                        f"entries at {result.latest_checkpoint['time']})")
        else:
            anchored = f"no signed checkpoint yet in {audit.checkpoint_path()}"
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {result.checked} entries verified, {anchored}"))
