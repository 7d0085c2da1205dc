from django.tasks import task


@task(queue_name="default")
def run_job(job_id):
    from .services.jobs import execute

    return execute(job_id)


@task(queue_name="default")
def deliver(delivery_id):
    from .services.notifications import send

    return send(delivery_id)


def _register_jobs():
    from django.utils.translation import gettext_lazy as _

    from . import jobs

    @jobs.register("core.backup", _("Backup of database and files"))
    def backup_job(job, out="var/backups", include_media=True):
        from .services import backup

        target, manifest = backup.backup(out, include_media=include_media)
        job.log(f"backup written to {target}")
        return {"path": str(target), "files": manifest["files"]}

    @jobs.register("core.export", _("Export of a list or ledger"))
    def export_job(job, request):
        from .services.exports import run_job

        return run_job(job, request)

    @jobs.register("core.purge_files", _("Deletion of expired generated files"))
    def purge_files_job(job):
        from .services.jobs import purge_expired_files

        count = purge_expired_files()
        job.log(f"{count} expired files deleted")
        return {"deleted": count}

    @jobs.register("core.audit_checkpoint", _("Audit chain checkpoint"))
    def audit_checkpoint_job(job):
        from .services import audit

        payload = audit.checkpoint()
        job.log(f"checkpoint: {payload['count']} entries, head {payload['head'][:16]}…")
        return {"count": payload["count"], "head": payload["head"], "time": payload["time"]}


_register_jobs()
