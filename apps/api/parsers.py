"""The API's JSON parser: the limits' parser (``apps.core.limits.parse_json``) behind DRF's interface.

DRF's own parser hands the body to ``json.loads``: 100,000 nested brackets raised RecursionError and
an integer of 10,000 digits a plain ValueError, both 500s. Here every such body is a 400 ``parse_error``
naming the reason.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core import limits


def body_max_depth() -> int:
    """A request body may nest two levels deeper than the structured fields inside it."""
    return int(settings.MAX_JSON_DEPTH) + 2


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = limits.parse_json(raw, field="The request body", max_depth=body_max_depth())
        except limits.ValidationFailed as exc:
            raise ParseError(exc.message) from None
        return data  # NUL characters and oversized numbers are the serializers' validation errors
