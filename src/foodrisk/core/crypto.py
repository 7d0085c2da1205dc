"""Field encryption (AES-256-GCM) and masking of sensitive values.

Ciphertext format: "v1:" + urlsafe-base64(nonce[12] + ciphertext + tag[16]). The key comes from
FOODRISK_FIELD_KEY (base64, 32 bytes) or is derived from SECRET_KEY with HKDF-SHA256.
"""

import base64
import functools
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "v1:"


@functools.cache
def _key():
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured:
        key = base64.urlsafe_b64decode(configured)
        if len(key) != 32:
            raise ValueError("FOODRISK_FIELD_KEY must be 32 bytes, base64-encoded")
        return key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"foodrisk-field-encryption").derive(
        settings.SECRET_KEY.encode()
    )


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plaintext.encode("utf-8"), None)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        return token  # legacy plaintext, re-encrypted on next save
    raw = base64.urlsafe_b64decode(token[len(PREFIX):])
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], None).decode("utf-8")


def mask(value: str, keep_start: int = 1, keep_end: int = 0) -> str:
    """张三丰 → 张**; 13812345678 → 138****5678 (keep_start=3, keep_end=4)."""
    if not value:
        return value
    if len(value) <= keep_start + keep_end:
        return value[:1] + "*" * (len(value) - 1)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + (value[-keep_end:] if keep_end else "")


# --- sensitive cells inside JSON documents -------------------------------------------------------------------
# A quarantined row keeps the cells of the file as read; a cell feeding a sensitive field (the legal
# representative) is stored like that field, encrypted, as {"sealed": ciphertext}: a JSON string cannot be told
# apart from a value that happens to start with the ciphertext prefix, an object with this one key can.
SEALED = "sealed"


def seal(text):
    """A sensitive cell as kept in a JSON document; empty stays empty."""
    return {SEALED: encrypt(str(text))} if text not in (None, "") else text


def is_sealed(value):
    return isinstance(value, dict) and len(value) == 1 and SEALED in value


def unseal(value):
    """The cell in clear (for processing it again, never for showing it)."""
    return decrypt(value[SEALED]) if is_sealed(value) else value


def mask_sealed(value):
    """How a cell is shown: a sealed one masked like the field it feeds, any other as it is."""
    return mask(unseal(value)) if is_sealed(value) else value


def redact_sealed(value):
    """A JSON document with every sealed cell replaced by "***" (audit snapshots, like encrypted fields)."""
    if is_sealed(value):
        return "***"
    if isinstance(value, dict):
        return {k: redact_sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_sealed(v) for v in value]
    return value
