"""The visit without HTTP: door cards, check-in and check-out, and every way
a confirmation can be refused. QR codes are decoded from the PNG images."""

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from flask import current_app
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from PIL import Image

from app import clock
from app.models import (
    AuditEntry,
    Claim,
    ClaimStatus,
    ConfirmedVia,
    Notification,
    NotificationKind,
    Task,
    TaskStatus,
)
from app.services import proxy_confirmations, qr, tasks, visits
from app.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "expected exactly one QR code"
    return found[0].text


def path_tail(url: str, prefix: str) -> str:
    """The token after `prefix` in a URL's path (e.g. /d/<token>)."""
    path = urlsplit(url).path
    assert path.startswith(prefix), url
    return path[len(prefix) :]


def grid_worker():
    return user_by_phone(DEMO.grid_worker)


def volunteer(n=1):
    return user_by_phone(DEMO.volunteer if n == 1 else DEMO.volunteer_2)


def visit_task(slots=1, household=None, claimants=(1,)):
    """A task tomorrow with its claims and its household's door card; committed."""
    worker = grid_worker()
    household = household or make_household(worker, building="访问楼")
    starts = clock.now() + timedelta(days=1)
    task = tasks.create_task(
        worker,
        tasks.TaskData(
            household_id=household.id,
            service_type_code="housekeeping",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            description="打扫厨房",
            slots=slots,
        ),
    )
    for n in claimants:
        tasks.claim_task(volunteer(n), task.id)
    card = visits.current_card(household.id) or visits.issue_door_card(worker, household.id)
    return task, card


@pytest.fixture(autouse=True)
def request_context(app):
    """URLs in QR codes are absolute: building them needs a request (http://localhost/)."""
    with app.test_request_context():
        yield


@pytest.fixture
def at():
    """Freeze the clock at a moment (aware); always unfrozen afterwards."""
    yield clock.freeze
    clock.freeze(None)


def claim_of(db, task, n=1) -> Claim:
    return db.session.scalar(
        sa.select(Claim)
        .where(Claim.task_id == task.id, Claim.volunteer_id == volunteer(n).id)
        .execution_options(populate_existing=True)
    )


def state(db, task, n=1):
    db.session.refresh(task)
    claim = claim_of(db, task, n)
    return task.status, claim.status, claim.check_in_at, claim.check_out_at, claim.confirm_nonce


def door_token_from_png(card) -> str:
    url = decode_qr(qr.png(visits.door_url(card)))
    return path_tail(url, "/d/")


def checked_out(db, at, slots=1):
    task, card = visit_task(slots=slots)
    at(task.starts_at + timedelta(minutes=5))
    token = visits.door_token(card)
    visits.check_in(volunteer(), task.id, token)
    visits.check_out(volunteer(), task.id, token)
    return task, card


def confirmation_token(task) -> str:
    url, _expires = visits.confirmation_link(volunteer(), task.id)
    return path_tail(decode_qr(qr.png(url)), "/c/")


# --- door cards ---------------------------------------------------------------


def test_door_card_code_token_and_reissue(db):
    task, card = visit_task(claimants=())
    assert len(card.code) == 8 and set(card.code) <= set(visits.CODE_ALPHABET)
    assert not set(card.code) & set("0O1I")
    token = door_token_from_png(card)
    assert visits.card_from_token(token).id == card.id
    assert visits.card_from_token(card.code.lower()).id == card.id
    # The token carries the card id only.
    payload = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="door-card").loads(token)
    assert payload == {"c": card.id}

    new = visits.issue_door_card(grid_worker(), task.household_id)
    assert new.code != card.code
    for old in (token, card.code):
        with pytest.raises(InvalidInput) as error:
            visits.card_from_token(old)
        assert error.value.code == "invalid_door_token"
    assert visits.card_from_token(visits.door_token(new)).id == new.id
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "door_card", AuditEntry.household_id == task.household_id
        )
    ).all()
    assert actions.count("issue") == 2 and actions.count("revoke") == 1


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "ZZZZZZZZ", "x" * 300, None, 12],
)
def test_unknown_door_tokens_are_refused(db, token):
    with pytest.raises(InvalidInput) as error:
        visits.card_from_token(token)
    assert error.value.code == "invalid_door_token"


def test_tampered_and_other_salt_door_tokens_are_refused(db):
    _task, card = visit_task(claimants=())
    token = visits.door_token(card)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_salt = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="other").dumps({"c": card.id})
    for bad in (tampered, other_salt):
        with pytest.raises(InvalidInput):
            visits.card_from_token(bad)


def test_revoked_card_stops_working(db):
    task, card = visit_task(claimants=())
    visits.revoke_door_card(grid_worker(), task.household_id)
    with pytest.raises(InvalidInput):
        visits.card_from_token(visits.door_token(card))
    assert visits.current_card(task.household_id) is None
    with pytest.raises(Conflict) as error:
        visits.revoke_door_card(grid_worker(), task.household_id)
    assert error.value.code == "no_door_card"


def test_door_cards_are_staff_in_scope_only(db):
    task, _card = visit_task(claimants=())
    with pytest.raises(Forbidden):
        visits.issue_door_card(volunteer(), task.household_id)
    with pytest.raises(NotFound):
        visits.issue_door_card(user_by_phone(DEMO.grid_worker_2), task.household_id)
    with pytest.raises(NotFound):
        visits.door_card_of(user_by_phone(DEMO.grid_worker_2), task.household_id)
    with pytest.raises(Forbidden):  # street officers read, but do not issue
        visits.issue_door_card(user_by_phone(DEMO.street_officer), task.household_id)


# --- check-in and check-out -------------------------------------------------------


def test_whole_visit_with_decoded_qr_codes(db, at):
    task, card = visit_task()
    at(task.starts_at - timedelta(minutes=30))  # the earliest check-in
    door = door_token_from_png(card)
    claim = visits.check_in(volunteer(), task.id, door)
    assert claim.status is ClaimStatus.CHECKED_IN and claim.check_in_at == clock.now()
    db.session.refresh(task)
    assert task.status is TaskStatus.IN_PROGRESS

    at(task.starts_at + timedelta(hours=1))
    claim = visits.check_out(volunteer(), task.id, card.code.lower())  # the short code works too
    assert claim.status is ClaimStatus.CHECKED_OUT and claim.check_out_at == clock.now()
    db.session.refresh(task)
    assert task.status is TaskStatus.AWAITING_CONFIRMATION

    url, expires = visits.confirmation_link(volunteer(), task.id)
    assert expires == clock.now() + timedelta(minutes=30)
    decoded = decode_qr(qr.png(url))
    assert decoded == url and urlsplit(decoded).path.startswith("/c/")
    token = path_tail(decoded, "/c/")
    payload = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="visit-confirmation").loads(token)
    assert set(payload) == {"v", "n"} and payload["v"] == claim.id

    claim = visits.confirm_visit(token, 5, " 很好 ")
    assert claim.status is ClaimStatus.CONFIRMED and claim.confirmed_via is ConfirmedVia.QR
    assert claim.rating == 5 and claim.comment == "很好" and claim.confirm_nonce is None
    db.session.refresh(task)
    assert task.status is TaskStatus.VERIFIED
    assert db.session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == volunteer().id,
            Notification.kind == NotificationKind.VISIT_CONFIRMED,
            Notification.task_id == task.id,
        )
    )


def test_check_in_with_another_households_card_changes_nothing(db, at):
    task, _card = visit_task()
    _other_task, other_card = visit_task(claimants=())
    at(task.starts_at)
    before = state(db, task)
    with pytest.raises(Conflict) as error:
        visits.check_in(volunteer(), task.id, visits.door_token(other_card))
    assert error.value.code == "wrong_household"
    assert state(db, task) == before


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (-timedelta(minutes=31), "too_early"),
        (timedelta(hours=2, seconds=1), "window_closed"),
    ],
)
def test_check_in_outside_the_window_changes_nothing(db, at, offset, code):
    task, card = visit_task()
    at(task.starts_at + offset)
    before = state(db, task)
    with pytest.raises(Conflict) as error:
        visits.check_in(volunteer(), task.id, visits.door_token(card))
    assert error.value.code == code
    assert state(db, task) == before


def test_check_out_before_check_in_and_check_in_twice(db, at):
    task, card = visit_task()
    at(task.starts_at)
    token = visits.door_token(card)
    before = state(db, task)
    with pytest.raises(Conflict) as error:
        visits.check_out(volunteer(), task.id, token)
    assert error.value.code == "not_checked_in"
    assert state(db, task) == before
    visits.check_in(volunteer(), task.id, token)
    with pytest.raises(Conflict) as error:
        visits.check_in(volunteer(), task.id, token)
    assert error.value.code == "already_checked_in"


def test_check_out_with_another_households_card_changes_nothing(db, at):
    task, card = visit_task()
    _other, other_card = visit_task(claimants=())
    at(task.starts_at)
    visits.check_in(volunteer(), task.id, visits.door_token(card))
    before = state(db, task)
    with pytest.raises(Conflict) as error:
        visits.check_out(volunteer(), task.id, other_card.code)
    assert error.value.code == "wrong_household"
    assert state(db, task) == before


def test_only_the_claimant_checks_in(db, at):
    task, card = visit_task()
    at(task.starts_at)
    with pytest.raises(NotFound) as error:
        visits.check_in(volunteer(2), task.id, visits.door_token(card))
    assert error.value.code == "not_claimed"
    with pytest.raises(Forbidden):
        visits.check_in(grid_worker(), task.id, visits.door_token(card))


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_a_task_id_that_cannot_exist_is_not_claimed(db, huge):
    """The volunteer's confirmation pages take the task id from the URL: past
    2**31 - 1 it once reached the database and overflowed (a 500)."""
    _task, card = visit_task()
    calls = (
        lambda: visits.current_confirmation_link(volunteer(), huge),
        lambda: visits.confirmation_link(volunteer(), huge),
        lambda: visits.check_in(volunteer(), huge, visits.door_token(card)),
        lambda: visits.check_out(volunteer(), huge, visits.door_token(card)),
    )
    for call in calls:
        with pytest.raises(NotFound) as error:
            call()
        assert error.value.code == "not_claimed"


def test_two_volunteers_task_is_verified_when_both_are_confirmed(db, at):
    task, card = visit_task(slots=2, claimants=(1, 2))
    at(task.starts_at)
    token = visits.door_token(card)
    visits.check_in(volunteer(1), task.id, token)
    visits.check_out(volunteer(1), task.id, token)
    db.session.refresh(task)
    assert task.status is TaskStatus.IN_PROGRESS  # the second volunteer is still due
    visits.check_in(volunteer(2), task.id, token)
    visits.check_out(volunteer(2), task.id, token)
    db.session.refresh(task)
    assert task.status is TaskStatus.AWAITING_CONFIRMATION
    visits.confirm_visit(confirmation_token(task), 4, "")
    db.session.refresh(task)
    assert task.status is TaskStatus.AWAITING_CONFIRMATION
    url, _ = visits.confirmation_link(volunteer(2), task.id)
    visits.confirm_visit(path_tail(url, "/c/"), 5, "")
    db.session.refresh(task)
    assert task.status is TaskStatus.VERIFIED


# --- refused confirmations -------------------------------------------------------------


def assert_refused(db, task, call, error_type, code):
    before = state(db, task)
    with pytest.raises(error_type) as error:
        call()
    assert error.value.code == code
    assert state(db, task) == before
    return error.value


def test_expired_link_is_refused(db, at):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    at(clock.now() + timedelta(minutes=30, seconds=1))
    error = assert_refused(db, task, lambda: visits.confirm_visit(token, 5, ""), DomainError, "token_expired")
    assert error.status == 410


def test_expired_by_the_claims_deadline_alone_is_refused(db, at):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    claim = claim_of(db, task)
    claim.confirm_expires_at = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert_refused(db, task, lambda: visits.confirm_visit(token, 5, ""), DomainError, "token_expired")


def test_tampered_and_forged_links_are_refused(db, at):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    payload, _, signature = token.rpartition(".")
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    claim = claim_of(db, task)
    forged = URLSafeTimedSerializer("not-our-key", salt="visit-confirmation").dumps(
        {"v": claim.id, "n": claim.confirm_nonce}
    )
    other_salt = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="door-card").dumps(
        {"v": claim.id, "n": claim.confirm_nonce}
    )
    door_token = visits.door_token(_card)
    for bad in (tampered, forged, other_salt, door_token, "garbage", ""):
        error = assert_refused(
            db, task, lambda b=bad: visits.confirm_visit(b, 5, ""), DomainError, "invalid_token"
        )
        assert error.status == 400


def test_replayed_link_is_refused(db, at):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    visits.confirm_visit(token, 5, "")
    claim = claim_of(db, task)
    confirmed_at = claim.confirmed_at
    at(clock.now() + timedelta(minutes=1))
    error = assert_refused(
        db, task, lambda: visits.confirm_visit(token, 1, "again"), DomainError, "token_used"
    )
    assert error.status == 410
    claim = claim_of(db, task)
    assert claim.rating == 5 and claim.confirmed_at == confirmed_at


def test_superseded_link_is_refused(db, at):
    task, _card = checked_out(db, at)
    first = confirmation_token(task)
    second = confirmation_token(task)
    assert_refused(db, task, lambda: visits.confirm_visit(first, 5, ""), DomainError, "token_used")
    visits.confirm_visit(second, 5, "")
    assert claim_of(db, task).status is ClaimStatus.CONFIRMED


def test_volunteer_cannot_confirm_own_visit(db, at):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    error = assert_refused(
        db, task, lambda: visits.confirm_visit(token, 5, "", viewer=volunteer()), Forbidden, "own_visit"
    )
    assert error.status == 403
    visits.confirm_visit(token, 5, "", viewer=volunteer(2))  # someone else logged in on the phone: fine


@pytest.mark.parametrize(
    ("rating", "comment", "code"),
    [
        (None, "", "invalid_rating"),
        (0, "", "invalid_rating"),
        (6, "", "invalid_rating"),
        (True, "", "invalid_rating"),
        ("5", "", "invalid_rating"),
        (5, "x" * 501, "invalid_comment"),
    ],
)
def test_rating_and_comment_are_checked(db, at, rating, comment, code):
    task, _card = checked_out(db, at)
    token = confirmation_token(task)
    assert_refused(db, task, lambda: visits.confirm_visit(token, rating, comment), InvalidInput, code)


def test_no_link_before_check_out(db, at):
    task, card = visit_task()
    at(task.starts_at)
    with pytest.raises(Conflict) as error:
        visits.confirmation_link(volunteer(), task.id)
    assert error.value.code == "not_checked_out"
    visits.check_in(volunteer(), task.id, visits.door_token(card))
    with pytest.raises(Conflict):
        visits.confirmation_link(volunteer(), task.id)


def test_current_link_keeps_the_nonce(db, at):
    task, _card = checked_out(db, at)
    url, expires = visits.confirmation_link(volunteer(), task.id)
    again, expires_again = visits.current_confirmation_link(volunteer(), task.id)
    assert (again, expires_again) == (url, expires)
    at(clock.now() + timedelta(minutes=31))
    fresh, fresh_expires = visits.current_confirmation_link(volunteer(), task.id)
    assert fresh != url and fresh_expires > expires


# --- proxies and follow-up calls ---------------------------------------------------------


def test_family_proxy_confirms(db, at):
    task, _card = checked_out(db, at)
    resident = user_by_phone(DEMO.resident)
    proxy = proxy_confirmations.link_proxy(grid_worker(), task.household_id, DEMO.resident, "女儿")
    assert [c.id for c in proxy_confirmations.pending_for_proxy(resident)] == [claim_of(db, task).id]
    claim = proxy_confirmations.confirm_as_proxy(resident, claim_of(db, task).id, 4, "谢谢")
    assert claim.confirmed_via is ConfirmedVia.PROXY and claim.confirmed_by_id == resident.id
    db.session.refresh(task)
    assert task.status is TaskStatus.VERIFIED
    assert proxy_confirmations.pending_for_proxy(resident) == []
    with pytest.raises(Conflict) as error:
        proxy_confirmations.confirm_as_proxy(resident, claim.id, 4, "")
    assert error.value.code == "not_awaiting_confirmation"
    with pytest.raises(Conflict) as error:
        proxy_confirmations.link_proxy(grid_worker(), task.household_id, DEMO.resident, "女儿")
    assert error.value.code == "already_linked"
    proxy_confirmations.unlink_proxy(grid_worker(), task.household_id, proxy.id)
    assert proxy_confirmations.proxies_of(grid_worker(), task.household_id) == []


def test_unlinked_or_strangers_cannot_confirm_as_proxy(db, at):
    task, _card = checked_out(db, at)
    claim_id = claim_of(db, task).id
    resident = user_by_phone(DEMO.resident)
    with pytest.raises(NotFound):
        proxy_confirmations.confirm_as_proxy(resident, claim_id, 5, "")
    proxy = proxy_confirmations.link_proxy(grid_worker(), task.household_id, DEMO.resident, "儿子")
    proxy_confirmations.unlink_proxy(grid_worker(), task.household_id, proxy.id)
    with pytest.raises(NotFound):
        proxy_confirmations.confirm_as_proxy(resident, claim_id, 5, "")
    with pytest.raises(InvalidInput) as error:
        proxy_confirmations.link_proxy(grid_worker(), task.household_id, "13999999999", "儿子")
    assert error.value.code == "unknown_user"
    with pytest.raises(NotFound):
        proxy_confirmations.link_proxy(
            user_by_phone(DEMO.grid_worker_2), task.household_id, DEMO.resident, "儿子"
        )
    assert claim_of(db, task).status is ClaimStatus.CHECKED_OUT


def test_follow_up_call_confirms_and_is_audited(db, at):
    task, _card = checked_out(db, at)
    claim_id = claim_of(db, task).id
    with pytest.raises(InvalidInput) as error:
        proxy_confirmations.confirm_by_follow_up_call(grid_worker(), claim_id, "  ")
    assert error.value.code == "note_required"
    with pytest.raises(NotFound):
        proxy_confirmations.confirm_by_follow_up_call(user_by_phone(DEMO.grid_worker_2), claim_id, "电话确认")
    with pytest.raises(Forbidden):
        proxy_confirmations.confirm_by_follow_up_call(volunteer(2), claim_id, "电话确认")
    claim = proxy_confirmations.confirm_by_follow_up_call(grid_worker(), claim_id, "老人说来过了", rating=5)
    assert claim.confirmed_via is ConfirmedVia.FOLLOW_UP_CALL and claim.confirmed_by_id == grid_worker().id
    assert claim.follow_up_note == "老人说来过了" and claim.rating == 5
    assert db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.object_type == "claim", AuditEntry.object_id == claim_id)
    )
    assert db.session.get(Task, task.id).status is TaskStatus.VERIFIED
    with pytest.raises(Conflict):
        proxy_confirmations.confirm_by_follow_up_call(grid_worker(), claim_id, "again")
