"""The audit log: every create, change, exit and reveal on the registry."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth_scope import Scope, grid_ids, is_valid_id
from app.extensions import db
from app.models import AuditEntry


def record(
    actor,
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    household=None,
    grid_id: int | None = None,
    fields=(),
    note: str = "",
) -> AuditEntry:
    """Add an audit entry to the session (the caller's commit keeps it with the change).

    `fields` names what changed; never pass values of sensitive fields.
    """
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        household_id=household.id if household is not None else None,
        grid_id=grid_id if grid_id is not None else (household.grid_id if household is not None else None),
        fields=",".join(sorted(fields))[:500],
        note=note[:500],
    )
    db.session.add(entry)
    return entry


def entries_stmt(scope: Scope, household_id: int | None = None) -> sa.Select:
    """SELECT of the audit entries inside `scope`, newest first, actors loaded."""
    stmt = sa.select(AuditEntry).options(selectinload(AuditEntry.actor))
    if scope.level != "all":
        stmt = stmt.where(AuditEntry.grid_id.in_(grid_ids(scope)))
    if household_id is not None:  # from the URL: an id no row can have matches nothing
        stmt = stmt.where(
            AuditEntry.household_id == household_id if is_valid_id(household_id) else sa.false()
        )
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
