"""Worker tasks of the sharing app."""

from django.tasks import task


@task(queue_name="default")
def send_delivery(delivery_id):
    """One attempt of a push delivery (webhooks.send): queued by the fan-out, by a retry and by a redelivery."""
    from . import webhooks

    return webhooks.send(delivery_id)
