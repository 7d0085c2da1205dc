from django.tasks import task


@task(queue_name="default")
def run_job(job_id):
    from .services.jobs import execute

    return execute(job_id)
