"""SMS gateway interface. The default backend only logs; a bureau plugs its gateway in by setting
FOODRISK_SMS_BACKEND to a class with send(phone, text)."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("foodrisk.sms")


class LoggingSMSBackend:
    sent = []  # kept for tests and the demo; a real gateway sends instead

    def send(self, phone, text):
        from .crypto import mask

        logger.info("SMS to %s: %s", mask(phone, 3, 4), text)
        self.sent.append((phone, text))
        return True


def get_backend():
    return import_string(settings.SMS_BACKEND)()
