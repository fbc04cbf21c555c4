"""Property-based run of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests (valid and invalid), sent in-process
through Django's test handler with a real token; each response must not be a 5xx and must
conform to the schema (status code, content type, body). Detail URLs point at real objects.
"""

from __future__ import annotations

import itertools
import re

import pytest
import schemathesis
from django.test.client import ClientHandler
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import client_for
from tests.badinput.fuzz import TRIED, examples

MAX_EXAMPLES = examples(25)  # per operation; FUZZ_SCALE=10 for the 10x run (README, "Bad input")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
RESOURCE = re.compile(r"^/api/v1/(?P<kind>[a-z-]+)/\{id\}/")
KIND = {"properties": "property", "pricing-rules": "pricing-rule"}
_turn = itertools.count()


class InProcessApp:
    """WSGI app around Django's test handler: requests share the test's database transaction
    (the plain WSGIHandler would close the connection after each request)."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [b"".join(response) if response.streaming else response.content]


# Loaded at collection: the schema view needs no database (anonymous, AllowAny). (schemathesis'
# fixture-based lazy loader does not work with pytest 9 yet.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", InProcessApp())
schema.config.generation.update(max_examples=MAX_EXAMPLES)
# The deterministic "coverage" phase alone sends hundreds of requests per write operation; the
# explicit examples and the bounded random phase keep the run to ~1 minute.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def fuzz_auth(alice, world):
    api = client_for(alice, "fuzzer")
    return {"Authorization": f"Bearer {api.raw_token}"}, world


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_api_conforms_to_its_schema(case, fuzz_auth):
    headers, world = fuzz_auth
    match = RESOURCE.match(case.path)
    if match and case.path_parameters is not None and "id" in case.path_parameters:
        kind = match.group("kind")
        obj = world.get(KIND.get(kind, kind.rstrip("s")))
        # half of the cases address a real object, the rest whatever id was generated
        if obj is not None and next(_turn) % 2 == 0:
            case.path_parameters["id"] = str(obj.pk)
    # half of the bodies that name a property name a real one (so writes can succeed, too)
    if isinstance(case.body, dict) and "property" in case.body and next(_turn) % 2 == 0:
        case.body["property"] = world["property"].pk
    TRIED["API (schemathesis, response conformance)"] += 1
    case.call_and_validate(headers=headers, checks=CHECKS)
