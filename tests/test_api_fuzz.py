"""API fuzzing: schemathesis over the whole /api/v1/openapi.json.

Every operation is called in-process through WSGI, inside the test's
rolled-back transaction (tests/conftest.py), so whatever a call writes is
gone afterwards. Every response must keep the document's promises:

- no 5xx, ever (`not_a_server_error`);
- a status code the operation documents — the document has no catch-all
  "default" response (`status_code_conformance`);
- a body that matches the documented schema, the error body
  `{"error": {"code", "message"}}` included (`response_schema_conformance`);
- the documented content type (`content_type_conformance`);
- and schemathesis' other default checks: schema-invalid input is refused
  with a 4xx, the bearer token is enforced, unsupported methods answer 405
  with an Allow header.

One check is off: `positive_data_acceptance` wants every schema-valid
request accepted, but the API's rules — a phone number's format, a grid
that exists, a window in the future, a door card that matches — cannot be
written in JSON Schema, and the API answers them with a documented 422 or
409 (which the status check above still holds it to).

Two runs, both deterministic (a fixed seed, derandomized):

- `test_fuzz_as_each_role`: every operation with the bearer token of each
  role (anonymous included), a few generated requests each, valid and
  invalid. A role the operation is not for is answered 401/403 before its
  input is read, so more examples would only repeat that answer.
- `test_boundaries`: every operation once, as the administrator (who passes
  every role check, so the input is parsed and the rules run), with
  schemathesis' coverage phase: each field's edge cases — empty, too long,
  NUL and other odd characters, the largest integers, wrong types, missing
  fields — and the methods the path does not support.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import DEMO, second_app

# Each role's demo login (CONTRACT.md); None: no token at all.
ROLES = {
    "anonymous": None,
    "volunteer": DEMO.volunteer,
    "resident": DEMO.resident,
    "partner": DEMO.partner,
    "grid_worker": DEMO.grid_worker,
    "community_worker": DEMO.community_worker,
    "street_officer": DEMO.street_officer,
    "admin": DEMO.admin,
}

# A deeper run by hand: API_FUZZ_EXAMPLES=50 API_FUZZ_SEED=2 pytest tests/test_api_fuzz.py
SEED = int(os.environ.get("API_FUZZ_SEED", "20240601"))
EXAMPLES_PER_ROLE = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))

CHECKS = {"positive_data_acceptance": {"enabled": False}}  # why: see the module docstring
# The bearer token is ours (each role's, or none): schemathesis must not make
# up or drop an Authorization header of its own.
GENERATION = {"deterministic": True, "max-examples": EXAMPLES_PER_ROLE, "with-security-parameters": False}

FUZZ_CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": GENERATION,
        "checks": CHECKS,
        "phases": {"coverage": {"enabled": False}},
    }
)
BOUNDARY_CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": GENERATION,
        "checks": CHECKS,
        "phases": {"examples": {"enabled": False}, "fuzzing": {"enabled": False}},
    }
)

# A function-scoped fixture (the rolled-back transaction) is what we want:
# the examples of one test share it. A loaded machine is no reason to fail.
SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _AppUnderTest:
    """The WSGI app schemathesis calls: the session's app, handed over by
    each test while its transaction is open (collection has no app yet)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


APP = _AppUnderTest()


def _document() -> dict:
    """The OpenAPI document, from an app of its own (no database needed)."""
    with second_app(SQLALCHEMY_DATABASE_URI="sqlite://") as doc_app:
        return doc_app.test_client().get("/api/v1/openapi.json").get_json()


def _schema(document: dict, config) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = APP
    return schema


DOCUMENT = _document()
fuzz_schema = _schema(DOCUMENT, FUZZ_CONFIG)
boundary_schema = _schema(DOCUMENT, BOUNDARY_CONFIG)


@pytest.fixture
def app_under_test(app):
    APP.app = app
    yield app
    APP.app = None


@pytest.fixture(params=list(ROLES))
def role_headers(request, app_under_test, api_token):
    phone = ROLES[request.param]
    return api_token(phone) if phone else {}


@fuzz_schema.parametrize()
@SETTINGS
def test_fuzz_as_each_role(case, role_headers):
    case.call_and_validate(headers=role_headers)


@boundary_schema.parametrize()
@pytest.mark.parametrize("role_headers", ["admin"], indirect=True)
@SETTINGS
def test_boundaries(case, role_headers):
    case.call_and_validate(headers=role_headers)


def test_the_fuzzed_document_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").get_json() == DOCUMENT
