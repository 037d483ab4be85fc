"""Help requests (一键求助): submitting from the public side, the staff inbox,
accepting (all or nothing) and dismissing."""

import pytest
import sqlalchemy as sa

from app.models import (
    AuditEntry,
    Grid,
    HelpRequest,
    HelpRequestStatus,
    Need,
    NeedStatus,
    ServiceType,
    Urgency,
)
from app.services import help_requests
from app.services.casework import NeedData, add_need
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.help_requests import (
    accept_help_request,
    dismiss_help_request,
    inbox_stmt,
    submit_help_request,
)
from tests.conftest import DEMO, count_rows
from tests.factories import make_household, user_by_phone

VALID = {"name": "孙桂兰", "phone": "13912345678", "address": "3号楼2单元301", "need": "帮忙买菜"}


@pytest.fixture
def grid_1(db):
    return user_by_phone(DEMO.grid_worker).grid_id


@pytest.fixture
def grid_2(db):
    return user_by_phone(DEMO.grid_worker_2).grid_id


def submit(grid_id, **changes):
    return submit_help_request(grid_id, **(VALID | changes))


def inbox(phone, status=None) -> list[HelpRequest]:
    from app.extensions import db

    return list(db.session.scalars(inbox_stmt(user_by_phone(phone), status=status)))


# --- submitting --------------------------------------------------------------


def test_a_request_is_stored_new_and_trimmed(db, grid_1):
    request = submit(grid_1, name=" 孙桂兰 ", need=" 帮忙买菜 ", service_type_code="errands")
    assert request.id and request.status is HelpRequestStatus.NEW
    assert (request.grid_id, request.name, request.need) == (grid_1, "孙桂兰", "帮忙买菜")
    assert request.service_type_code == "errands" and request.household_id is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 51}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "1391234567"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"address": ""}, "address"),
        ({"address": "楼" * 101}, "address"),
        ({"need": ""}, "need"),
        ({"need": "要" * 501}, "need"),
        ({"service_type_code": "no-such-service"}, "service_type_code"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(db, grid_1, changes, field):
    before = count_rows(HelpRequest)
    with pytest.raises(InvalidInput) as error:
        submit(grid_1, **changes)
    assert error.value.field == field
    assert count_rows(HelpRequest) == before


def test_a_retired_service_type_is_refused(db, grid_1):
    db.session.get(ServiceType, "haircut").active = False
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        submit(grid_1, service_type_code="haircut")
    assert error.value.code == "unknown_service_type"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("010-12345678", "010-12345678"),
        ("0755-12345678", "0755-12345678"),  # a 4-digit area code and an 8-digit number
        ("0531 8123456", "05318123456"),
        ("(0531)8123456", "05318123456"),
        (" 13912345678 ", "13912345678"),
    ],
)
def test_landlines_with_area_code_are_kept(db, grid_1, given, kept):
    assert submit(grid_1, phone=given).phone == kept


@pytest.mark.parametrize("grid_id", [999999, None, "1", True])
def test_an_unknown_grid_is_not_found(db, grid_id):
    with pytest.raises(NotFound):
        submit(grid_id)


# --- the inbox ---------------------------------------------------------------


def test_the_inbox_follows_the_org_tree(db, grid_1, grid_2):
    mine = submit(grid_1, name="一网格求助")
    other = submit(grid_2, name="二网格求助")
    assert mine in inbox(DEMO.grid_worker) and other not in inbox(DEMO.grid_worker)
    assert other in inbox(DEMO.grid_worker_2) and mine not in inbox(DEMO.grid_worker_2)
    for phone in (DEMO.community_worker, DEMO.street_officer, DEMO.admin):
        assert {mine, other} <= set(inbox(phone))


def test_a_community_worker_does_not_see_another_community(db):
    community_id = user_by_phone(DEMO.community_worker).community_id
    other_community = db.session.scalar(
        sa.select(Grid).where(Grid.community_id != community_id).order_by(Grid.id)
    )
    request = submit(other_community.id)
    assert request not in inbox(DEMO.community_worker)
    assert request in inbox(DEMO.street_officer)


@pytest.mark.parametrize("phone", [DEMO.volunteer, DEMO.resident, DEMO.partner])
def test_the_inbox_is_for_staff_only(db, phone):
    with pytest.raises(Forbidden):
        inbox_stmt(user_by_phone(phone))


def test_new_requests_come_first_and_status_filters(db, grid_1):
    worker = user_by_phone(DEMO.grid_worker)
    old_new = submit(grid_1, name="早")
    handled = submit(grid_1, name="已处理")
    dismiss_help_request(worker, handled.id, "电话里已解决")
    newest = submit(grid_1, name="新")
    listed = inbox(DEMO.grid_worker)
    assert listed.index(newest) < listed.index(old_new) < listed.index(handled)
    assert handled not in inbox(DEMO.grid_worker, HelpRequestStatus.NEW)
    assert inbox(DEMO.grid_worker, HelpRequestStatus.DISMISSED)[0] == handled


def test_other_grids_requests_are_not_found(db, grid_2):
    request = submit(grid_2)
    worker = user_by_phone(DEMO.grid_worker)
    with pytest.raises(NotFound):
        help_requests.get_help_request(worker, request.id)
    with pytest.raises(NotFound):
        dismiss_help_request(worker, request.id, "不是我们网格的")


# --- accepting ---------------------------------------------------------------


def need_data(**changes) -> NeedData:
    values = {"service_type_code": "errands", "description": "每周帮忙买菜", "urgency": Urgency.URGENT}
    return NeedData(**(values | changes))


def test_accepting_links_the_household_and_opens_a_need(db, grid_1):
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker)
    request = submit(grid_1)
    need = accept_help_request(worker, request.id, household.id, need_data())
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    assert (need.household_id, need.status, need.urgency) == (household.id, NeedStatus.OPEN, Urgency.URGENT)
    assert (need.service_type_code, need.description, need.created_by_id) == (
        "errands",
        "每周帮忙买菜",
        worker.id,
    )
    request = db.session.get(HelpRequest, request.id)
    assert request.status is HelpRequestStatus.ACCEPTED and request.household_id == household.id
    assert request.handled_by_id == worker.id and request.handled_at is not None
    actions = set(
        db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.object_type).where(
                AuditEntry.household_id == household.id
            )
        )
    )
    assert {("accept", "help_request"), ("create", "need")} <= actions


def test_accepting_twice_or_after_dismissal_is_a_conflict(db, grid_1):
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker)
    request = submit(grid_1)
    accept_help_request(worker, request.id, household.id, need_data())
    needs = count_rows(Need)
    with pytest.raises(Conflict):
        accept_help_request(worker, request.id, household.id, need_data())
    with pytest.raises(Conflict):
        dismiss_help_request(worker, request.id, "重复")
    assert count_rows(Need) == needs
    dismissed = submit(grid_1)
    dismiss_help_request(worker, dismissed.id, "电话里已解决")
    with pytest.raises(Conflict):
        accept_help_request(worker, dismissed.id, household.id, need_data())


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"service_type_code": "no-such-service"}, InvalidInput, "service_type_code"),
        ({"description": ""}, InvalidInput, "description"),
        ({"urgency": "urgent"}, InvalidInput, "urgency"),
    ],
)
def test_a_refused_accept_leaves_the_request_new_and_no_need(db, grid_1, changes, error, field):
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker)
    request = submit(grid_1)
    needs = count_rows(Need)
    with pytest.raises(error) as raised:
        accept_help_request(worker, request.id, household.id, need_data(**changes))
    assert raised.value.field == field
    assert count_rows(Need) == needs
    assert db.session.get(HelpRequest, request.id).status is HelpRequestStatus.NEW


def test_a_failure_after_the_need_is_written_rolls_it_back(db, grid_1, monkeypatch):
    """Someone else handles the request between our checks and our update:
    the conditional UPDATE finds it no longer NEW and the need goes too."""
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker)
    request = submit(grid_1)
    needs = count_rows(Need)
    real_add_need = help_requests._add_need

    def add_need_then_race(*args):
        need = real_add_need(*args)
        assert count_rows(Need) == needs + 1  # flushed, not committed
        db.session.execute(
            sa.update(HelpRequest)
            .where(HelpRequest.id == request.id)
            .values(status=HelpRequestStatus.DISMISSED)
            .execution_options(synchronize_session=False)
        )
        return need

    monkeypatch.setattr(help_requests, "_add_need", add_need_then_race)
    with pytest.raises(Conflict):
        accept_help_request(worker, request.id, household.id, need_data())
    assert count_rows(Need) == needs
    assert db.session.get(HelpRequest, request.id).status is HelpRequestStatus.NEW


def test_the_household_must_be_in_the_requests_grid(db, grid_1, grid_2):
    community_worker = user_by_phone(DEMO.community_worker)
    elsewhere = make_household(community_worker, grid_2)
    request = submit(grid_1)
    with pytest.raises(InvalidInput) as error:
        accept_help_request(community_worker, request.id, elsewhere.id, need_data())
    assert error.value.field == "household_id"


def test_a_household_out_of_scope_is_not_found(db, grid_1):
    other_worker = user_by_phone(DEMO.grid_worker_2)
    theirs = make_household(other_worker)
    request = submit(grid_1)
    with pytest.raises(NotFound):
        accept_help_request(user_by_phone(DEMO.grid_worker), request.id, theirs.id, need_data())
    with pytest.raises(NotFound):
        accept_help_request(user_by_phone(DEMO.grid_worker), request.id, 999999, need_data())


def test_street_officers_dismiss_but_do_not_accept(db, grid_1):
    officer = user_by_phone(DEMO.street_officer)
    household = make_household(user_by_phone(DEMO.grid_worker))
    request = submit(grid_1)
    with pytest.raises(Forbidden):
        accept_help_request(officer, request.id, household.id, need_data())
    assert not help_requests.may_accept(officer)
    assert dismiss_help_request(officer, request.id, "已转交").status is HelpRequestStatus.DISMISSED


def test_volunteers_can_do_neither(db, grid_1):
    volunteer = user_by_phone(DEMO.volunteer)
    request = submit(grid_1)
    with pytest.raises(Forbidden):
        accept_help_request(volunteer, request.id, 1, need_data())
    with pytest.raises(Forbidden):
        dismiss_help_request(volunteer, request.id, "x")


# --- dismissing --------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", None, "字" * 501])
def test_dismissing_needs_a_note(db, grid_1, note):
    request = submit(grid_1)
    with pytest.raises(InvalidInput) as error:
        dismiss_help_request(user_by_phone(DEMO.grid_worker), request.id, note)
    assert error.value.field == "note"
    assert db.session.get(HelpRequest, request.id).status is HelpRequestStatus.NEW


def test_dismissing_records_the_note_and_an_audit_entry(db, grid_1):
    worker = user_by_phone(DEMO.grid_worker)
    request = submit(grid_1)
    dismiss_help_request(worker, request.id, " 电话里已解决 ")
    db.session.expire_all()
    request = db.session.get(HelpRequest, request.id)
    assert request.status is HelpRequestStatus.DISMISSED and request.handling_note == "电话里已解决"
    assert request.handled_by_id == worker.id
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.object_type == "help_request", AuditEntry.object_id == request.id
        )
    )
    assert (entry.action, entry.actor_id, entry.grid_id) == ("dismiss", worker.id, grid_1)


def test_add_need_still_commits_on_its_own(db):
    worker = user_by_phone(DEMO.grid_worker)
    household = make_household(worker)
    need = add_need(worker, household.id, need_data())
    db.session.rollback()  # nothing pending: add_need committed
    assert db.session.get(Need, need.id) is not None
