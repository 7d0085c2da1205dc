"""Uploaded files kept on the server between two requests: a designer's sample while the profile is made, a file
waiting for the duplicate confirmation. The session names them (a random token or the storage path), so a person
only reaches their own; a confirmed or replaced file is discarded."""

import datetime as dt
import secrets
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

KEPT_FOR = dt.timedelta(days=1)  # a file nobody came back for (a closed tab, an expired session) goes after this


def token():
    return secrets.token_urlsafe(16)


def hold(content, file_name, folder):
    """Store the bytes under ingest/<folder>/ (a random name keeping the suffix); returns the storage path."""
    sweep(folder)
    suffix = file_name.rsplit(".", 1)[-1][:5] if "." in file_name else "csv"
    return default_storage.save(f"ingest/{folder}/{uuid.uuid4().hex}.{suffix}", ContentFile(content))


def sweep(folder, older_than=KEPT_FOR):
    """Delete the files of ingest/<folder>/ older than `older_than` (abandoned); returns how many."""
    cutoff, gone = timezone.now() - older_than, 0
    try:
        _dirs, files = default_storage.listdir(f"ingest/{folder}")
    except FileNotFoundError:
        return 0
    for name in files:
        path = f"ingest/{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                gone += 1
        except FileNotFoundError:  # taken by a concurrent request
            continue
    return gone


def load(path):
    with default_storage.open(path, "rb") as fh:
        return fh.read()


def discard(path):
    default_storage.delete(path)
