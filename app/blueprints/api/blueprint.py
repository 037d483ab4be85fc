"""The API's Blueprint: flask-smorest's, reading JSON bodies with a parser
that refuses what the JSON reader or the database cannot take with a 400
(invalid_json, invalid_characters) instead of failing with a 500."""

import json
import re

import flask_smorest
from flask_babel import lazy_gettext as _l
from webargs import core
from webargs.flaskparser import FlaskParser

from app.services.errors import DomainError

# "\ud800" is valid JSON but decodes to half a UTF-16 pair, which cannot be
# encoded as UTF-8, so neither SQLite nor PostgreSQL can be sent it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(value) -> bool:
    """Whether a decoded JSON value holds a lone surrogate in any string or key."""
    pending = [value]
    while pending:  # a loop, not recursion: the body may be nested deep
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JsonParser(FlaskParser):
    """webargs' Flask parser, for bodies Python's JSON reader gives up on.

    Besides malformed JSON (which webargs handles), the reader raises
    RecursionError for a body nested a few thousand levels deep and
    ValueError for an integer of more than 4300 digits: 400 invalid_json.
    A string with a lone surrogate escape is refused like a NUL character
    (app/errors.py): 400 invalid_characters.
    """

    def _raw_load_json(self, req):
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own handling: an empty body is a missing one
        except (RecursionError, ValueError) as error:
            self._handle_invalid_json_error(error, req)
        if data is not core.missing and has_lone_surrogate(data):
            raise DomainError(
                _l("The request contains characters that are not allowed."), code="invalid_characters"
            )
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonParser()
