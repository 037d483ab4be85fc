"""Objections to a public notice (群众举报/异议, seed 004): a resident who thinks
an entry is wrong says so from the public page, without an account; the
community's staff see it on the notice's page and answer it with a note.

Only a notice shown now takes objections. What a resident writes is seen by
staff only, never published. An objection moves OPEN → HANDLED once, by a
conditional UPDATE, so two staff answering at once get one success and one
Conflict.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import is_valid_id
from app.extensions import db
from app.models import NoticeObjection, ObjectionStatus
from app.services import audit
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.public_notice import get_notice
from app.services.public_notice_display import get_live_notice, notice_item

TEXT_MAX, CONTACT_MAX, NOTE_MAX = 500, 50, 500


def submit_objection(
    community_id: int, notice_id: int, text: str, contact: str = "", item_id: int | None = None
) -> NoticeObjection:
    """Record a resident's objection to a notice shown now (or one of its entries); commit.

    Raises NotFound (no such notice shown in the community) and InvalidInput
    (text 1–500, contact up to 50 characters, an entry not of this notice).
    """
    notice = get_live_notice(community_id, notice_id)
    text = (text or "").strip()
    if not 1 <= len(text) <= TEXT_MAX:
        raise InvalidInput(
            _l("Say what is wrong in up to %(n)d characters.", n=TEXT_MAX), code="invalid_text", field="text"
        )
    contact = " ".join((contact or "").split())
    if len(contact) > CONTACT_MAX:
        raise InvalidInput(
            _l("Enter a contact of up to %(n)d characters.", n=CONTACT_MAX),
            code="invalid_contact",
            field="contact",
        )
    if item_id is not None and notice_item(notice, item_id) is None:
        raise InvalidInput(_l("Choose an entry of this notice."), code="unknown_item", field="item_id")
    objection = NoticeObjection(notice_id=notice.id, item_id=item_id, text=text, contact=contact)
    db.session.add(objection)
    db.session.commit()
    return objection


def objections_of(notice_id: int) -> list[NoticeObjection]:
    """A notice's objections, open first, then newest first (the caller checked scope)."""
    return list(
        db.session.scalars(
            sa.select(NoticeObjection)
            .where(NoticeObjection.notice_id == notice_id)
            .options(selectinload(NoticeObjection.handled_by))
            .order_by(
                (NoticeObjection.status == ObjectionStatus.OPEN).desc(),
                NoticeObjection.created_at.desc(),
                NoticeObjection.id.desc(),
            )
        )
    )


def open_counts(notice_ids) -> dict[int, int]:
    """notice id → its open objections (one query)."""
    ids = list(notice_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(NoticeObjection.notice_id, sa.func.count(NoticeObjection.id))
        .where(NoticeObjection.notice_id.in_(ids), NoticeObjection.status == ObjectionStatus.OPEN)
        .group_by(NoticeObjection.notice_id)
    )
    return dict(rows.all())


def handle_objection(actor, notice_id: int, objection_id: int, note: str) -> NoticeObjection:
    """Answer an objection to a notice in the actor's scope with a note; commit.

    Raises NotFound (notice out of scope, objection not of it), InvalidInput
    (note 1–500), Conflict `already_handled`.
    """
    notice = get_notice(actor, notice_id)
    objection = (
        db.session.scalar(
            sa.select(NoticeObjection).where(
                NoticeObjection.id == objection_id, NoticeObjection.notice_id == notice.id
            )
        )
        if is_valid_id(objection_id)
        else None
    )
    if objection is None:
        raise NotFound()
    note = (note or "").strip()
    if not 1 <= len(note) <= NOTE_MAX:
        raise InvalidInput(
            _l("Write what was done in up to %(n)d characters.", n=NOTE_MAX),
            code="invalid_text",
            field="note",
        )
    updated = db.session.execute(
        sa.update(NoticeObjection)
        .where(NoticeObjection.id == objection.id, NoticeObjection.status == ObjectionStatus.OPEN)
        .values(
            status=ObjectionStatus.HANDLED, handled_by_id=actor.id, handled_at=clock.now(), handling_note=note
        )
    ).rowcount
    if updated != 1:
        db.session.rollback()
        raise Conflict(_l("Someone has already answered this objection."), code="already_handled")
    audit.record(actor, "handle", "notice_objection", objection.id, fields=["status", "handling_note"])
    db.session.commit()
    db.session.refresh(objection)
    return objection
