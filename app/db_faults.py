"""When the database fails mid-request: nothing half-written, a clear 503, one retry of reads.

A request's writes are one database transaction, committed at its end by
the service that made them. If the connection drops or the server refuses
(a restart, a failover, `pg_terminate_backend`), the transaction is lost as
a whole on the server; here the session is rolled back too and the answer
is 503 "try again in a moment" with Retry-After, as a page or the API's
error body — never a traceback.

A GET or HEAD changes nothing worth keeping, so when its connection was
lost it is run once more on a fresh connection (pool pre-ping gives one)
before giving up: a restart under traffic costs readers nothing.
"""

import logging

import sqlalchemy as sa
from flask import Flask, request
from flask_babel import gettext as _

from app.extensions import db

logger = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD"})
RETRY_AFTER_SECONDS = 5


def lost_connection(error: BaseException) -> bool:
    """The statement failed because the connection to the database was lost."""
    return isinstance(error, sa.exc.DBAPIError) and bool(error.connection_invalidated)


class RetryingFlask(Flask):
    """Flask, running an idempotent request's view again once after a lost connection."""

    def dispatch_request(self):
        try:
            return super().dispatch_request()
        except sa.exc.DBAPIError as error:
            if request.method not in IDEMPOTENT or not lost_connection(error):
                raise
            logger.warning(
                "database connection lost during %s %s; running it again", request.method, request.endpoint
            )
        db.session.rollback()
        return super().dispatch_request()


def handle_database_error(error: sa.exc.DBAPIError):
    """The database could not do its part: roll back and ask the user to try again.

    Only a lost connection or an operational failure (server shutting down,
    out of connections, a lock timeout) is the database's fault; any other
    database error is a bug and stays a 500."""
    from app.errors import error_response

    if not (isinstance(error, sa.exc.OperationalError) or lost_connection(error)):
        raise error
    logger.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
    db.session.rollback()
    return error_response(
        503,
        "database_unavailable",
        _("The service is briefly unavailable. Nothing was saved; please try again in a moment."),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def register_database_fault_handling(app: Flask) -> None:
    app.register_error_handler(sa.exc.DBAPIError, handle_database_error)
