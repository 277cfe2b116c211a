"""The API's JSON parser: the portal's limits (nesting depth, no NaN or infinities) applied
before a body becomes Python objects, so a hostile body is a 400 and never a RecursionError."""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from governance import limits


class PortalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return limits.loads(text)
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not valid {encoding} text.") from error
        except ValueError as error:
            # json.JSONDecodeError is a ValueError too; both say what is wrong in a sentence.
            raise ParseError(f"JSON parse error - {error}") from error
