"""Count the SQL statements a block of code sends, for query budgets (no N+1).

    with count_statements(app) as statements:
        client.get("/tasks")
    assert len(statements) == 7, "\n".join(statements)

Savepoint bookkeeping of the test transaction is not counted: it is the
fixture's, not the page's.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from app.extensions import db

_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def count_statements(app) -> Iterator[list[str]]:
    """Yield a list that collects every statement run on `app`'s engine meanwhile.

    No app context is held while counting, so test-client requests behave as usual."""
    statements: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", collect)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", collect)
