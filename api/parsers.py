"""The API's JSON parser: DRF's, with deep nesting answered as a 400 instead of a crash.

Python's JSON decoder recurses once per nested array or object and raises RecursionError (not ValueError)
past about a thousand levels, which DRF does not catch. No request of this API nests beyond a few levels.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
