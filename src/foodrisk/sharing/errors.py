"""The sharing API's result codes (错误码): every answer carries one, refusals with their HTTP status. The table
is published in docs/sharing.md and on the catalogue page; clients act on the code, not on the message."""

from django.utils.translation import gettext_lazy as _

CODES = {
    # code: (HTTP status, message)
    "OK": (200, _("Success.")),
    "SIGNATURE_MISSING": (401, _("The request lacks the app key, timestamp, nonce or signature header.")),
    "APP_KEY_UNKNOWN": (401, _("No client system has this app key.")),
    "SIGNATURE_INVALID": (401, _("The signature does not match the request.")),
    "TIMESTAMP_EXPIRED": (401, _("The timestamp is more than the allowed clock difference away from ours.")),
    "NONCE_INVALID": (400, _("The nonce must be 16–64 characters of letters, digits, - or _.")),
    "NONCE_REPLAYED": (401, _("This nonce was used before: a replayed request is refused.")),
    "CLIENT_INACTIVE": (403, _("The client system is not approved, suspended or outside its validity period.")),
    "IP_NOT_ALLOWED": (403, _("The request comes from an address the client system is not allowed to use.")),
    "RATE_EXCEEDED": (429, _("Too many calls in this minute for this client system.")),
    "DATASET_NOT_GRANTED": (403, _("The client system may not receive this dataset.")),
    "FIELD_NOT_GRANTED": (403, _("A requested field is not granted to the client system.")),
    "OUT_OF_SCOPE": (403, _("The enterprise lies outside the client system's region.")),
    "NOT_FOUND": (404, _("No such enterprise or dataset.")),
    "BAD_REQUEST": (400, _("A parameter is invalid.")),
    # inbound pushes (POST /api/sharing/v1/inbound/{kind}/)
    "INBOUND_NOT_GRANTED": (403, _("The client system may not push records of this kind.")),
    "UNSUPPORTED_MEDIA_TYPE": (415, _("Push JSON records, a CSV file or an XLSX file.")),
    "PAYLOAD_TOO_LARGE": (413, _("Too many records in one push; send them in several pushes. Limit:")),
    "DUPLICATE_BATCH": (409, _("These very records were pushed before; the earlier batch:")),
}


class SharingError(Exception):
    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code, self.detail = code, detail

    @property
    def status(self):
        return CODES[self.code][0]

    def body(self):
        message = str(CODES[self.code][1])
        return {"code": self.code, "message": f"{message} {self.detail}".strip()}
