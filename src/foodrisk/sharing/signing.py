"""Request and response signatures of the sharing API — pure Python (no Django), so the reference client
(sharing/client.py) and a receiving system can use this very file.

A request is signed over its canonical form, one item per line:

    METHOD              upper case, e.g. GET
    PATH                the URL path as sent, e.g. /api/sharing/v1/enterprises/91330102MA2B3C4D5E/
    QUERY               the query's parameters sorted by name then value, each name=value percent-encoded
                        (RFC 3986, UTF-8), joined by &; empty when there is none
    BODY DIGEST         lower-case hex SHA-256 of the body bytes (of b"" for a GET)
    TIMESTAMP           Unix seconds, the X-Foodrisk-Timestamp header
    NONCE               the X-Foodrisk-Nonce header: 16–64 characters [A-Za-z0-9_-], never used twice

signature = base64(HMAC(secret, canonical)), HMAC-SHA256 or HMAC-SM3 (GB/T 32905) as the client is registered.
A response is signed over "STATUS\\nTIMESTAMP\\nBODY DIGEST" with the same secret and algorithm, in the
response's X-Foodrisk-Timestamp and X-Foodrisk-Signature headers, so the receiver can check it came from us
and was not changed on the way.

A streamed answer (the NDJSON change stream) cannot carry its signature in a header, which is sent before the
body exists: its last line is a trailer {"end": true, …, "sha256": SHA-256 of every byte before that line,
"timestamp": …, "signature": …} signed over "200\nTIMESTAMP\nSHA256" — the same message as a header-signed
answer, so one verification serves both. A stream cut short has no trailer and must be discarded.

An exchange manifest (manifest.json of a batch export) is signed over its canonical JSON without the
"signature" member: keys sorted, no spaces, UTF-8 (manifest_message); the files it lists are checked by
their SHA-256.
"""

import base64
import hashlib
import hmac
import json
from urllib.parse import quote

ALGORITHMS = ("hmac-sha256", "hmac-sm3")
KEY_HEADER = "X-Foodrisk-Key"
TIMESTAMP_HEADER = "X-Foodrisk-Timestamp"
NONCE_HEADER = "X-Foodrisk-Nonce"
SIGNATURE_HEADER = "X-Foodrisk-Signature"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body or b"").hexdigest()


def canonical_query(pairs) -> str:
    """pairs: (name, value) of the query as sent (repeated names allowed)."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def canonical_request(method, path, query_pairs, body, timestamp, nonce) -> str:
    return "\n".join([method.upper(), path, canonical_query(query_pairs), body_digest(body), str(timestamp), nonce])


def _mac(algorithm, secret: str, message: str) -> bytes:
    key, data = secret.encode(), message.encode()
    if algorithm == "hmac-sha256":
        return hmac.new(key, data, hashlib.sha256).digest()
    if algorithm == "hmac-sm3":  # the system's OpenSSL may lack SM3; cryptography's bundled one has it
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import hmac as crypto_hmac

        mac = crypto_hmac.HMAC(key, hashes.SM3())
        mac.update(data)
        return mac.finalize()
    raise ValueError(f"unknown algorithm {algorithm!r}")


def sign(algorithm, secret, message) -> str:
    return base64.b64encode(_mac(algorithm, secret, message)).decode()


def matches(algorithm, secret, message, signature) -> bool:
    return hmac.compare_digest(sign(algorithm, secret, message), signature or "")


def response_message(status, timestamp, body) -> str:
    return f"{int(status)}\n{timestamp}\n{body_digest(body)}"


# --------------------------------------------------------------------------------------- Standard Webhooks 1.0
# A push (webhook) is signed as Standard Webhooks 1.0 prescribes, so any of its libraries can verify it:
#   webhook-id          the message id, the same on every retry (drop duplicates by it)
#   webhook-timestamp   Unix seconds of this attempt
#   webhook-signature   space-separated "v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>"; during a secret
#                       rotation it carries one signature per valid secret
# key = the base64-decoded part of the subscription's secret after "whsec_".
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_TOLERANCE_S = 300


def webhook_key(secret: str) -> bytes:
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX):], validate=True)


def webhook_signature(secret: str, msg_id: str, timestamp, body: bytes) -> str:
    """One `v1,<base64>` entry of the webhook-signature header."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()).decode()


def webhook_headers(secrets, msg_id: str, timestamp: int, body: bytes) -> dict:
    """The three Standard Webhooks headers, signed with each of `secrets` (current first)."""
    return {WEBHOOK_ID_HEADER: msg_id, WEBHOOK_TIMESTAMP_HEADER: str(int(timestamp)),
            WEBHOOK_SIGNATURE_HEADER: " ".join(webhook_signature(s, msg_id, int(timestamp), body) for s in secrets)}
def manifest_message(manifest: dict) -> str:
    """The signed text of an exchange manifest: its canonical JSON without the signature member."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def stream_message(timestamp, digest_hex) -> str:
    """The signed text of a streamed answer's trailer: response_message of the bytes before the trailer."""
    return f"200\n{timestamp}\n{digest_hex}"
