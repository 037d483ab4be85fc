"""Follow-up (回访) on confirmed visits: staff ask the household how it went.

A low satisfaction (1 or 2 of 5) or a complaint flags the claim and its task
for a closer look and tells the task's creator (VISIT_FLAGGED). A follow-up
is recorded once; the audit log keeps who recorded it and when.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.auth_scope import get_scoped_or_404, require_role, unscoped_get
from app.extensions import db
from app.models import Claim, ClaimStatus, NotificationKind, Task
from app.services import audit
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.households import LEDGER_WRITERS
from app.services.notifications import notify

FLAG_AT_OR_BELOW = 2  # satisfaction 1–2 of 5 flags the visit
MAX_NOTE = 500


def get_follow_up_claim(actor, claim_id: int) -> tuple[Claim, Task]:
    """A claim whose task is in the actor's scope, and the task; NotFound otherwise."""
    require_role(actor, *LEDGER_WRITERS)
    claim = unscoped_get(Claim, claim_id)
    if claim is None:
        raise NotFound()
    task = get_scoped_or_404(Task, claim.task_id, actor)  # the scope check on the parent
    return claim, task


def record_visit_follow_up(actor, claim_id: int, satisfaction: int, note: str, complaint: bool) -> Claim:
    """Record the household's satisfaction (1–5) with a confirmed visit; commit.

    Satisfaction 1–2 or a complaint flags the claim and the task and notifies
    the task's creator. Raises Forbidden, NotFound (out of scope), InvalidInput
    (satisfaction, note) and Conflict: not_confirmed, follow_up_recorded.
    """
    claim, task = get_follow_up_claim(actor, claim_id)
    if claim.status is not ClaimStatus.CONFIRMED:
        raise Conflict(_l("Only a visit the resident confirmed can be followed up."), code="not_confirmed")
    if claim.follow_up_satisfaction is not None:
        raise Conflict(_l("This visit's follow-up is already recorded."), code="follow_up_recorded")
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise InvalidInput(
            _l("Choose a satisfaction from 1 to 5."), code="invalid_satisfaction", field="satisfaction"
        )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_l("Keep the note to 500 characters."), code="invalid_text", field="note")
    if complaint and not note:
        raise InvalidInput(
            _l("Say what the complaint is about."), code="complaint_note_required", field="note"
        )
    claim.follow_up_satisfaction, claim.follow_up_note = satisfaction, note
    flagged = satisfaction <= FLAG_AT_OR_BELOW or bool(complaint)
    if flagged:
        claim.flagged = task.flagged = True
        notify(task.created_by_id, NotificationKind.VISIT_FLAGGED, task.id)
    audit.record(
        actor,
        "follow_up",
        "claim",
        claim.id,
        grid_id=task.grid_id,
        fields=("follow_up_satisfaction", "follow_up_note") + (("flagged",) if flagged else ()),
        note="complaint" if complaint else "",
    )
    db.session.commit()
    return claim


def volunteer_flags(volunteer_id: int) -> int:
    """How many of a volunteer's visits were flagged at follow-up."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Claim)
        .where(Claim.volunteer_id == volunteer_id, Claim.flagged.is_(True))
    )
