"""The API's parsers: NUL is refused like in a path or a query (see core.middleware.RejectNulMiddleware, which sees
only POST forms: Django parses no body of a PUT or PATCH, DRF does, here)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from ..middleware import NUL_MESSAGE, has_nul


class _RefuseNul:
    """A NUL in any key or string would reach PostgreSQL (text and jsonb refuse it) as a 500: a 400 here."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if has_nul(getattr(data, "data", data)):  # multipart: DataAndFiles (uploaded files are not looked at)
            raise ParseError(NUL_MESSAGE)
        return data


class JSONParserWithoutNul(_RefuseNul, JSONParser):
    pass


class FormParserWithoutNul(_RefuseNul, FormParser):
    pass


class MultiPartParserWithoutNul(_RefuseNul, MultiPartParser):
    pass
