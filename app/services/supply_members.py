"""An organisation's volunteers (PartnerMember): invited by the organisation,
accepted by the volunteer.

Why this shape: a member may claim the tasks reserved for the organisation,
and the organisation sees the member's name and phone. Both need the
volunteer's own yes, so the organisation's users invite a registered
volunteer by mobile number and only the volunteer's acceptance, on their
own page, makes them a member; until then the organisation sees only the
masked number it typed. One row per organisation and volunteer keeps the
current standing (invited, member, declined, left); the audit log keeps
the history. A volunteer leaves whenever they like; the organisation can
remove a member or withdraw an invitation.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import clock
from app.auth_scope import is_valid_id, require_role
from app.extensions import db
from app.models import Grid, MemberStatus, Partner, PartnerMember, Role, Task, TaskStatus, User
from app.services import audit
from app.services.accounts import find_by_phone
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.supply import acts_for, desk_partner

LIVE = (MemberStatus.INVITED, MemberStatus.ACTIVE)


def _own_partner(actor, partner_id) -> Partner:
    """An organisation the actor acts for (its own users manage its volunteers); NotFound otherwise."""
    partner = desk_partner(actor, partner_id)
    if not acts_for(actor, partner.id):
        raise NotFound()
    return partner


def mask_phone(phone: str) -> str:
    """138****0004: enough to recognise a number one typed, not to learn one."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


@dataclass(frozen=True)
class MemberRow:
    """A volunteer as the organisation sees them: the name and number only once they accepted."""

    user_id: int
    status: MemberStatus
    name: str | None
    phone: str
    since: datetime


def members(actor, partner_id) -> list[MemberRow]:
    """The organisation's members, then open and declined invitations, by name or time."""
    partner = desk_partner(actor, partner_id)
    rows = db.session.execute(
        sa.select(PartnerMember, User.name, User.phone)
        .join(User, User.id == PartnerMember.user_id)
        .where(PartnerMember.partner_id == partner.id, PartnerMember.status != MemberStatus.LEFT)
        .order_by(
            (PartnerMember.status == MemberStatus.ACTIVE).desc(),
            PartnerMember.invited_at.desc(),
            PartnerMember.id,
        )
    )
    result = []
    for member, name, phone in rows:
        accepted = member.status is MemberStatus.ACTIVE
        result.append(
            MemberRow(
                user_id=member.user_id,
                status=member.status,
                name=name if accepted else None,
                phone=phone if accepted else mask_phone(phone),
                since=member.answered_at if accepted else member.invited_at,
            )
        )
    return result


def invite(actor, partner_id, phone) -> PartnerMember:
    """Invite the registered volunteer with this mobile number; audit-logged; commit.

    Raises NotFound (not the actor's organisation), InvalidInput
    `not_a_volunteer`, Conflict `already_member` / `already_invited`. A
    volunteer who declined or left can be invited again.
    """
    partner = _own_partner(actor, partner_id)
    phone = phone.strip() if isinstance(phone, str) else ""
    user = find_by_phone(phone) if phone else None
    if user is None or not user.active or not user.has_role(Role.VOLUNTEER):
        raise InvalidInput(
            _l("No volunteer has registered with this mobile number."), code="not_a_volunteer", field="phone"
        )
    member = db.session.scalar(
        sa.select(PartnerMember).where(
            PartnerMember.partner_id == partner.id, PartnerMember.user_id == user.id
        )
    )
    if member is not None and member.status is MemberStatus.ACTIVE:
        raise Conflict(_l("This volunteer is already a member."), code="already_member", field="phone")
    if member is not None and member.status is MemberStatus.INVITED:
        raise Conflict(_l("This volunteer has already been invited."), code="already_invited", field="phone")
    try:
        with db.session.begin_nested():
            if member is None:
                member = PartnerMember(partner_id=partner.id, user_id=user.id, invited_by_id=actor.id)
                db.session.add(member)
            member.status, member.invited_by_id, member.invited_at = (
                MemberStatus.INVITED,
                actor.id,
                clock.now(),
            )
            member.answered_at = member.left_at = None
    except IntegrityError:  # invited by a colleague at the same moment
        raise Conflict(
            _l("This volunteer has already been invited."), code="already_invited", field="phone"
        ) from None
    audit.record(actor, "invite", "partner_member", member.id, note=f"partner {partner.id} user {user.id}")
    db.session.commit()
    return member


def _change(member_id, where, status: MemberStatus, **values) -> bool:
    """One conditional UPDATE of a membership's status (a double tap changes it once)."""
    return (
        db.session.execute(
            sa.update(PartnerMember)
            .where(PartnerMember.id == member_id, *where)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def _mine(volunteer, member_id) -> PartnerMember:
    require_role(volunteer, Role.VOLUNTEER)
    member = db.session.get(PartnerMember, member_id) if is_valid_id(member_id) else None
    if member is None or member.user_id != volunteer.id:
        raise NotFound()
    return member


def answer(volunteer, member_id, accept: bool) -> PartnerMember:
    """The volunteer accepts or declines an invitation; audit-logged; commit.

    Raises NotFound (not their invitation), Conflict `not_invited`.
    """
    member = _mine(volunteer, member_id)
    status = MemberStatus.ACTIVE if accept else MemberStatus.DECLINED
    if not _change(
        member.id, [PartnerMember.status == MemberStatus.INVITED], status, answered_at=clock.now()
    ):
        db.session.rollback()
        raise Conflict(_l("There is no open invitation to answer."), code="not_invited")
    audit.record(volunteer, "accept" if accept else "decline", "partner_member", member.id)
    db.session.commit()
    db.session.refresh(member)
    return member


def leave(volunteer, member_id) -> PartnerMember:
    """The volunteer stops being a member (places already claimed stay); commit.

    Raises NotFound, Conflict `not_a_member`.
    """
    member = _mine(volunteer, member_id)
    if not _change(
        member.id, [PartnerMember.status == MemberStatus.ACTIVE], MemberStatus.LEFT, left_at=clock.now()
    ):
        db.session.rollback()
        raise Conflict(_l("You are not a member of this organisation."), code="not_a_member")
    audit.record(volunteer, "leave", "partner_member", member.id)
    db.session.commit()
    db.session.refresh(member)
    return member


def remove(actor, partner_id, user_id) -> None:
    """The organisation removes a member or withdraws an invitation; commit. Raises NotFound."""
    partner = _own_partner(actor, partner_id)
    member = None
    if is_valid_id(user_id):
        member = db.session.scalar(
            sa.select(PartnerMember).where(
                PartnerMember.partner_id == partner.id,
                PartnerMember.user_id == user_id,
                PartnerMember.status.in_(LIVE),
            )
        )
    if member is None or not _change(
        member.id, [PartnerMember.status.in_(LIVE)], MemberStatus.LEFT, left_at=clock.now()
    ):
        raise NotFound()
    audit.record(actor, "remove", "partner_member", member.id, note=f"partner {partner.id} user {user_id}")
    db.session.commit()


# --- the volunteer's side ---------------------------------------------------------------


def my_memberships(volunteer) -> list[PartnerMember]:
    """The volunteer's open invitations (first) and memberships, organisation loaded."""
    require_role(volunteer, Role.VOLUNTEER)
    return list(
        db.session.scalars(
            sa.select(PartnerMember)
            .where(PartnerMember.user_id == volunteer.id, PartnerMember.status.in_(LIVE))
            .options(selectinload(PartnerMember.partner))
            .order_by(
                (PartnerMember.status == MemberStatus.INVITED).desc(),
                PartnerMember.invited_at.desc(),
                PartnerMember.id,
            )
        )
    )


def organisation_tasks(volunteer, limit: int = 50) -> list[Task]:
    """Open tasks reserved for the volunteer's organisations that have not
    started, soonest first (they are on the task board too)."""
    require_role(volunteer, Role.VOLUNTEER)
    mine = sa.select(PartnerMember.partner_id).where(
        PartnerMember.user_id == volunteer.id, PartnerMember.status == MemberStatus.ACTIVE
    )
    return list(
        db.session.scalars(
            sa.select(Task)
            .where(Task.partner_id.in_(mine), Task.status == TaskStatus.OPEN, Task.starts_at > clock.now())
            .options(selectinload(Task.service_type), selectinload(Task.grid).selectinload(Grid.community))
            .order_by(Task.starts_at, Task.id)
            .limit(limit)
        )
    )
