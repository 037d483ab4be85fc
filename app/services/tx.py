"""One unit of work: commit at the end, roll back everything on any error."""

from contextlib import contextmanager

from app.extensions import db


@contextmanager
def atomic():
    """Commit what the block wrote, or roll it all back if the block raises.

    For services made of several steps that each only flush, so that a
    refusal half-way (a DomainError) leaves nothing half-written even when
    the caller keeps using the session (CLI, tests, the scheduler).
    """
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
