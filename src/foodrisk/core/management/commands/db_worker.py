"""`foodrisk db_worker`: django-tasks-db's worker command with foodrisk's worker loop (heartbeat, recovery of
abandoned work, reconnection after a lost database connection). Same options as the stock command."""

from django_tasks_db.management.commands import db_worker

from foodrisk.core.worker import Worker


class Command(db_worker.Command):
    help = "Run the background worker (tasks, jobs, reactions) with heartbeat, recovery and reconnection"

    def handle(self, *args, **options):
        original = db_worker.Worker
        db_worker.Worker = Worker  # the stock handle() builds db_worker.Worker; ours subclasses it
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
