"""The reference client of the sharing API: signs requests and verifies signed answers (stdlib + signing.py only,
so a receiving system can take these two files as they are).

    client = SharingClient("https://foodrisk.example/", app_key, secret)
    row = client.get("/api/sharing/v1/enterprises/91330102MA2B3C4D5E/")["data"]
    for row in client.pull("enterprise_grade", since=0):   # every change since the cursor, page by page
        ...
    for row in client.stream_changes("enterprise_grade", since=0):   # one streamed answer, trailer verified
        ...
    client.push("penalties", [{...}, ...])                  # records into the bureau's ingest pipeline
    verify_manifest(manifest_bytes, secret, {name: file bytes})  # an exchange export's files, before use

A receiver of pushes (webhooks) checks each one before it trusts it:

    event = verify_webhook(WHSEC, request_headers, raw_body)   # raises BadWebhook; event["type"], event["data"]
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from . import signing


class SharingRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('code')}: {body.get('message')}")
        self.status, self.code, self.body = status, body.get("code"), body


class BadResponseSignature(Exception):
    pass


class BadWebhook(Exception):
    """A push that must not be trusted: a header missing, a stale timestamp or no matching signature."""


def verify_webhook(secret, headers, body, *, tolerance=signing.WEBHOOK_TOLERANCE_S, now=None):
    """The event of a Standard Webhooks 1.0 push (parsed JSON) once its signature and timestamp hold.
    `headers`: any mapping (names are matched case-insensitively), `body`: the raw bytes as received — parse
    only after this check, re-serialised JSON would not match. Keep webhook-id to drop a repeated delivery."""
    lower = {str(k).lower(): v for k, v in dict(headers).items()}
    msg_id = lower.get(signing.WEBHOOK_ID_HEADER)
    stamp = lower.get(signing.WEBHOOK_TIMESTAMP_HEADER)
    sent = lower.get(signing.WEBHOOK_SIGNATURE_HEADER)
    if not (msg_id and stamp and sent):
        raise BadWebhook("missing webhook-id, webhook-timestamp or webhook-signature")
    if not (stamp.isascii() and stamp.isdigit()):
        raise BadWebhook("bad timestamp")
    current = time.time() if now is None else now
    if abs(int(stamp) - current) > tolerance:  # an old push replayed, or a clock far off
        raise BadWebhook("timestamp outside the tolerance")
    expected = signing.webhook_signature(secret, msg_id, stamp, body)
    if not any(hmac.compare_digest(expected, entry) for entry in sent.split(" ") if entry.startswith("v1,")):
        raise BadWebhook("no signature matches")
    return json.loads(body)


class BadManifest(Exception):
    """An exchange manifest whose signature fails, or a file whose SHA-256 or size is not the manifest's."""


def verify_manifest(manifest_bytes, secret, files, algorithm=None):
    """Check an exchange export: the manifest's signature (the client's secret), then every file it lists
    against its SHA-256 and size. `files`: {name: bytes}; a listed file missing from it is an error. Returns the
    manifest (a dict)."""
    manifest = json.loads(manifest_bytes)
    algorithm = algorithm or manifest.get("algorithm", "hmac-sha256")
    if not signing.matches(algorithm, secret, signing.manifest_message(manifest), manifest.get("signature")):
        raise BadManifest("manifest signature")
    for entry in manifest["files"]:
        content = files.get(entry["name"])
        if content is None:
            raise BadManifest(f"missing file {entry['name']}")
        if len(content) != entry["bytes"] or hashlib.sha256(content).hexdigest() != entry["sha256"]:
            raise BadManifest(f"digest of {entry['name']}")
    return manifest


class SharingClient:
    def __init__(self, base_url, app_key, secret, algorithm="hmac-sha256", timeout=30):
        self.base_url, self.app_key, self.secret = base_url, app_key, secret
        self.algorithm, self.timeout = algorithm, timeout

    def signed_headers(self, method, path, query="", body=b"", timestamp=None, nonce=None):
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_urlsafe(18)
        message = signing.canonical_request(method, path, parse_qsl(query, keep_blank_values=True), body, stamp,
                                            nonce)
        return {signing.KEY_HEADER: self.app_key, signing.TIMESTAMP_HEADER: stamp, signing.NONCE_HEADER: nonce,
                signing.SIGNATURE_HEADER: signing.sign(self.algorithm, self.secret, message)}

    def request(self, method, path, params=None, *, headers=None, body=b"", content_type=None, raw=False):
        """(status, parsed body, response headers); the answer's signature is verified when present. raw=True:
        the body as bytes (a file, which the signed manifest verifies)."""
        query = urlencode(params or {})
        url = urljoin(self.base_url, path) + (f"?{query}" if query else "")
        sent = headers if headers is not None else self.signed_headers(method, urlsplit(url).path, query, body)
        if content_type:
            sent = {**sent, "Content-Type": content_type}
        req = urllib.request.Request(url, method=method, headers=sent, data=body or None)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, body, answer_headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            status, body, answer_headers = exc.code, exc.read(), exc.headers
        signature = answer_headers.get(signing.SIGNATURE_HEADER)
        if signature is not None:
            message = signing.response_message(status, answer_headers.get(signing.TIMESTAMP_HEADER, ""), body)
            if not signing.matches(self.algorithm, self.secret, message, signature):
                raise BadResponseSignature(url)
        if raw and status < 400:
            return status, body, answer_headers
        return status, json.loads(body or b"{}"), answer_headers

    def get(self, path, params=None):
        status, body, _headers = self.request("GET", path, params)
        if status >= 400:
            raise SharingRefused(status, body)
        return body

    def pull(self, dataset, *, since=None, limit=500, fields=None):
        """Every row of a dataset (or, with `since`, of its changes since that cursor), page by page; the
        cursor to keep for the next pull is in self.cursor afterwards."""
        params = {"limit": limit, **({"fields": ",".join(fields)} if fields else {})}
        cursor = {"since": since} if since is not None else {}
        while True:
            page = self.get(f"/api/sharing/v1/datasets/{dataset}/", {**params, **cursor})
            yield from page["data"]
            self.cursor = page["next"] or cursor
            if not page["data"] or page["next"] is None or page["next"] == cursor:
                return
            cursor = page["next"]

    def stream_changes(self, dataset, *, since=0, fields=None):
        """Every change since the cursor in one streamed answer (NDJSON), row by row, read as it arrives. The
        trailer's signature over the digest of everything before it is checked at the end: BadResponseSignature
        (or a stream without a trailer) means the rows must be thrown away; self.cursor is set only then."""
        path = f"/api/sharing/v1/datasets/{dataset}/changes/"
        query = urlencode({"since": since, **({"fields": ",".join(fields)} if fields else {})})
        url = urljoin(self.base_url, path) + f"?{query}"
        req = urllib.request.Request(url, headers=self.signed_headers("GET", path, query))
        digest = hashlib.sha256()
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            raise SharingRefused(exc.code, json.loads(exc.read() or b"{}")) from None
        with resp:
            first = resp.readline()
            digest.update(first)
            if json.loads(first).get("code") != "OK":
                raise BadResponseSignature(f"{url}: no stream header")
            for line in resp:
                item = json.loads(line)
                if item.get("end") is True:
                    message = signing.stream_message(item["timestamp"], digest.hexdigest())
                    if item["sha256"] != digest.hexdigest() or not signing.matches(
                            self.algorithm, self.secret, message, item["signature"]):
                        raise BadResponseSignature(url)
                    self.cursor = item["next"]
                    return
                digest.update(line)
                yield item
        raise BadResponseSignature(f"{url}: the stream ended without its signed trailer")

    def push(self, kind, records):
        """Push records (a list of dicts, the columns the client's mapping profile reads) into the ingest
        pipeline; returns the answer's data (batch id, counts, rejected rows with their reasons)."""
        body = json.dumps({"records": records}, ensure_ascii=False).encode()
        status, answer, _headers = self.request("POST", f"/api/sharing/v1/inbound/{kind}/", body=body,
                                                content_type="application/json")
        if status >= 400:
            raise SharingRefused(status, answer)
        return answer["data"]

    def fetch_export(self, export_id):
        """Download a ready export's manifest and files and verify them (verify_manifest); returns
        (manifest, {name: bytes})."""
        listing = self.get("/api/sharing/v1/exports/")["data"]
        entry = next(e for e in listing if e["id"] == export_id)
        files = {}
        for name in entry["files"]:
            status, content, _headers = self.request("GET", f"/api/sharing/v1/exports/{export_id}/{name}", raw=True)
            if status >= 400:
                raise SharingRefused(status, content)
            files[name] = content
        manifest = verify_manifest(files.pop("manifest.json"), self.secret, files, self.algorithm)
        return manifest, files
