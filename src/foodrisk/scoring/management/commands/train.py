"""foodrisk train [--months N] [--as-of YYYY-MM-DD] [--target enterprise|inspection] [--horizon M] [--seed S] [--threads T] [--wait]

Trains a *candidate* risk model from point-in-time monthly snapshots of the archive and stores it with
its model card. Without --wait the training is queued as a job (`foodrisk db_worker` runs it). A
candidate is used for scoring only after a second person reviews and promotes it.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from foodrisk.scoring.choices import TrainingTarget


class Command(BaseCommand):
    help = "Train a candidate risk model on the archive (point-in-time monthly snapshots)."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=24, help="monthly as-of dates (default 24)")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                            help="labels complete up to this day (default: today)")
        parser.add_argument("--target", choices=TrainingTarget.values, default=TrainingTarget.ENTERPRISE,
                            help="what the model predicts: any adverse outcome of the enterprise (12 months) or "
                                 "each inspection's key-item finding (2 months)")
        parser.add_argument("--horizon", type=int, default=None, help="label horizon in months (default: the "
                                                                         "target's, 12 or 2)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--threads", type=int, default=2, help="LightGBM threads (1 on a busy host)")
        parser.add_argument("--wait", action="store_true", help="train here and now instead of queuing a job")

    def handle(self, *args, months=24, as_of=None, target="enterprise", horizon=None, seed=0, threads=2, wait=False,
               **options):
        from foodrisk.scoring import model_services

        if not wait:
            job = model_services.start_train_job(months=months, target=target, horizon_months=horizon, seed=seed,
                                                 threads=threads, as_of=as_of)
            self.stdout.write(f"queued job #{job.pk} (scoring.train); run `foodrisk db_worker` to process it")
            return
        try:
            mv = model_services.train_candidate(months=months, as_of=as_of, target=target, horizon_months=horizon,
                                                seed=seed, threads=threads)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        card = mv.metrics
        self.stdout.write(self.style.SUCCESS(f"candidate {mv.version} (#{mv.pk}) stored"))
        self.stdout.write(f"data window: {mv.data_window}")
        for name, m in (card.get("metrics") or {}).items():
            self.stdout.write(f"  {name:<26} AUC {m.get('auc')!s:<22} KS {m.get('ks')!s:<22} "
                              f"top-decile lift {m.get('top_decile_lift')}")
        self.stdout.write(f"checks: {card.get('checks')}")
        self.stdout.write(f"timing (s): {mv.training.get('timing')}")
        self.stdout.write("review the model card and promote it (a second person) before it scores anything")
