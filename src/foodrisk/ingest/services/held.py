"""Uploaded files kept on the server between two requests: a designer's sample while the profile is made, a file
waiting for the duplicate confirmation. The session names them (a random token or the storage path), so a person
only reaches their own; a confirmed or replaced file is discarded."""

import secrets
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def token():
    return secrets.token_urlsafe(16)


def hold(content, file_name, folder):
    """Store the bytes under ingest/<folder>/ (a random name keeping the suffix); returns the storage path."""
    suffix = file_name.rsplit(".", 1)[-1][:5] if "." in file_name else "csv"
    return default_storage.save(f"ingest/{folder}/{uuid.uuid4().hex}.{suffix}", ContentFile(content))


def load(path):
    with default_storage.open(path, "rb") as fh:
        return fh.read()


def discard(path):
    default_storage.delete(path)
