"""The API's JSON parser: NUL is refused like in a path or a query (see core.middleware.RejectNulMiddleware)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from ..middleware import NUL_MESSAGE, has_nul


class JSONParserWithoutNul(JSONParser):
    """A `\\u0000` in any key or string would reach PostgreSQL (text and jsonb refuse it) as a 500: a 400 here."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if has_nul(data):
            raise ParseError(NUL_MESSAGE)
        return data
