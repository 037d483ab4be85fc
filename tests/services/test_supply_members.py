"""An organisation's volunteers: invited by the organisation, a member only
once the volunteer accepts; and the claim rule that reserves a task from a
supply match for them (tasks.py: `partner_volunteers_only`)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AuditEntry, Claim, MemberStatus, PartnerMember, Task, TaskStatus, WaitlistEntry
from app.services import matching, supply_members, tasks
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO
from tests.factories import make_tree, user_by_phone
from tests.services.supply_builders import member, org, volunteer
from tests.services.test_notifications import make_task


def test_an_invitation_makes_a_member_only_when_accepted(db):
    partner, user = org()
    someone = volunteer()
    invitation = supply_members.invite(user, partner.id, someone.phone)
    assert invitation.status is MemberStatus.INVITED
    rows = supply_members.members(user, partner.id)
    # Before the volunteer says yes, the organisation sees only the masked number it typed.
    assert [(r.name, r.phone, r.status) for r in rows] == [
        (None, f"{someone.phone[:3]}****{someone.phone[-4:]}", MemberStatus.INVITED)
    ]
    assert [m.partner_id for m in supply_members.my_memberships(someone)] == [partner.id]
    supply_members.answer(someone, invitation.id, True)
    rows = supply_members.members(user, partner.id)
    assert [(r.name, r.phone, r.status) for r in rows] == [(someone.name, someone.phone, MemberStatus.ACTIVE)]
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "partner_member", AuditEntry.object_id == invitation.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["invite", "accept"]


def test_invitations_are_refused_for_non_volunteers_and_duplicates(db):
    partner, user = org()
    someone = volunteer()
    for phone in ("13999999999", DEMO.grid_worker, "", None):
        with pytest.raises(InvalidInput) as refused:
            supply_members.invite(user, partner.id, phone)
        assert (refused.value.code, refused.value.field) == ("not_a_volunteer", "phone")
    invitation = supply_members.invite(user, partner.id, someone.phone)
    with pytest.raises(Conflict) as twice:
        supply_members.invite(user, partner.id, someone.phone)
    assert twice.value.code == "already_invited"
    supply_members.answer(someone, invitation.id, True)
    with pytest.raises(Conflict) as joined:
        supply_members.invite(user, partner.id, someone.phone)
    assert joined.value.code == "already_member"


def test_only_the_organisations_own_users_manage_its_volunteers(db):
    partner, _user = org()
    _other, stranger = org()
    someone = volunteer()
    with pytest.raises(NotFound):
        supply_members.invite(stranger, partner.id, someone.phone)
    # The street officer sees the desk but the organisation manages its own people.
    with pytest.raises(NotFound):
        supply_members.invite(user_by_phone(DEMO.street_officer), partner.id, someone.phone)
    with pytest.raises(Forbidden):
        supply_members.invite(user_by_phone(DEMO.volunteer), partner.id, someone.phone)
    assert supply_members.members(user_by_phone(DEMO.street_officer), partner.id) == []


def test_declining_leaving_removing_and_inviting_again(db):
    partner, user = org()
    someone = volunteer()
    first = supply_members.invite(user, partner.id, someone.phone)
    assert supply_members.answer(someone, first.id, False).status is MemberStatus.DECLINED
    with pytest.raises(Conflict) as answered:
        supply_members.answer(someone, first.id, True)
    assert answered.value.code == "not_invited"
    assert supply_members.my_memberships(someone) == []
    again = supply_members.invite(user, partner.id, someone.phone)
    assert again.id == first.id and again.status is MemberStatus.INVITED
    supply_members.answer(someone, again.id, True)
    assert supply_members.leave(someone, again.id).status is MemberStatus.LEFT
    with pytest.raises(Conflict):
        supply_members.leave(someone, again.id)
    supply_members.answer(someone, supply_members.invite(user, partner.id, someone.phone).id, True)
    supply_members.remove(user, partner.id, someone.id)
    assert db.session.get(PartnerMember, first.id).status is MemberStatus.LEFT
    with pytest.raises(NotFound):
        supply_members.remove(user, partner.id, someone.id)


def test_a_volunteer_answers_only_their_own_invitation(db):
    partner, user = org()
    someone, other = volunteer(), volunteer()
    invitation = supply_members.invite(user, partner.id, someone.phone)
    with pytest.raises(NotFound):
        supply_members.answer(other, invitation.id, True)
    with pytest.raises(NotFound):
        supply_members.answer(other, 999_999, True)
    assert db.session.get(PartnerMember, invitation.id).status is MemberStatus.INVITED


# --- the claim rule --------------------------------------------------------------------------


def reserved_task(partner, starts=None):
    """An open task in grid 1 reserved for the organisation (as an accepted match makes it)."""
    task = make_task(starts or clock.now() + timedelta(days=3))
    task.partner_id = partner.id
    db.session.commit()
    return task


def test_only_the_organisations_volunteers_can_claim_its_task(db):
    partner, user = org()
    outsider = user_by_phone(DEMO.volunteer)  # lives in the task's community
    insider = volunteer()
    member(partner, user, insider)
    task = reserved_task(partner)
    with pytest.raises(Conflict) as refused:
        tasks.claim_task(outsider, task.id)
    assert refused.value.code == "partner_volunteers_only"
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Claim).where(Claim.task_id == task.id)) == 0
    )
    assert db.session.get(Task, task.id).taken == 0
    claim = tasks.claim_task(insider, task.id)
    assert claim.volunteer_id == insider.id
    assert db.session.get(Task, task.id).status is TaskStatus.CLAIMED


def test_a_former_or_invited_member_cannot_claim(db):
    partner, user = org()
    invited, former = volunteer(), volunteer()
    supply_members.invite(user, partner.id, invited.phone)
    membership = member(partner, user, former)
    supply_members.leave(former, membership.id)
    task = reserved_task(partner)
    for who in (invited, former):
        with pytest.raises(Conflict) as refused:
            tasks.claim_task(who, task.id)
        assert refused.value.code == "partner_volunteers_only"


def test_members_from_other_communities_see_and_claim_it(db):
    partner, user = org()
    far = make_tree("远方")
    elsewhere = volunteer(grid_id=far["grids"][0].id)
    member(partner, user, elsewhere)
    task = reserved_task(partner)
    assert tasks.get_task(elsewhere, task.id).id == task.id
    assert task.id in [t.id for t in db.session.scalars(tasks.board_stmt(elsewhere))]
    assert [t.id for t in supply_members.organisation_tasks(elsewhere)] == [task.id]
    tasks.claim_task(elsewhere, task.id)
    # A non-member far away does not even see it.
    stranger = volunteer(grid_id=far["grids"][0].id)
    with pytest.raises(NotFound):
        tasks.get_task(stranger, task.id)


def test_the_board_hides_reserved_tasks_from_non_members(db):
    partner, user = org()
    outsider = user_by_phone(DEMO.volunteer)
    insider = volunteer()
    member(partner, user, insider)
    task = reserved_task(partner)
    plain = make_task(clock.now() + timedelta(days=3))
    outsider_board = [t.id for t in db.session.scalars(tasks.board_stmt(outsider))]
    insider_board = [t.id for t in db.session.scalars(tasks.board_stmt(insider))]
    assert task.id not in outsider_board and plain.id in outsider_board
    assert task.id in insider_board and plain.id in insider_board


def test_the_waiting_list_follows_the_same_rule(db):
    partner, user = org()
    insider, second = volunteer(), volunteer()
    member(partner, user, insider)
    task = reserved_task(partner)
    tasks.claim_task(insider, task.id)
    with pytest.raises(Conflict) as refused:
        tasks.join_waitlist(user_by_phone(DEMO.volunteer), task.id)
    assert refused.value.code == "partner_volunteers_only"
    member(partner, user, second)
    tasks.join_waitlist(second, task.id)
    assert (
        db.session.scalar(sa.select(WaitlistEntry.volunteer_id).where(WaitlistEntry.task_id == task.id))
        == second.id
    )


def test_matching_suggests_only_the_organisations_volunteers_for_its_task(db):
    partner, user = org()
    insider = volunteer()
    member(partner, user, insider)
    task = reserved_task(partner)
    worker = user_by_phone(DEMO.grid_worker)
    suggested = {s.volunteer_id for s in matching.suggest_volunteers(worker, task.id, limit=500)}
    assert suggested == {insider.id}
    with pytest.raises(Conflict) as refused:
        matching.invite(worker, task.id, user_by_phone(DEMO.volunteer).id)
    assert refused.value.code == "not_a_candidate"


def test_tasks_without_an_organisation_are_unchanged(db):
    partner, user = org()
    insider = volunteer()
    member(partner, user, insider)
    task = make_task(clock.now() + timedelta(days=3))
    outsider = user_by_phone(DEMO.volunteer)
    assert tasks.claim_task(outsider, task.id).volunteer_id == outsider.id
