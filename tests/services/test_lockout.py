"""Login lockout per phone number: 5 failures in a row lock the account for
1 minute, each further failure doubles it up to 60; a good login resets."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db as _db
from app.models import Role, User
from app.services import accounts
from app.services.accounts import AccountLocked, authenticate, lock_duration
from app.services.errors import DomainError
from tests.conftest import DEMO, count_rows
from tests.factories import at_once, make_user

PASSWORD = "test-pass-8642"  # make_user's
WRONG = "not the password"


@pytest.fixture
def now():
    """The clock, frozen; tests move it with clock.freeze."""
    start = clock.now().replace(microsecond=0)
    clock.freeze(start)
    yield start
    clock.freeze(None)


def fail(phone: str, times: int = 1) -> list[str]:
    """Wrong passwords in a row; the error codes they got."""
    codes = []
    for _ in range(times):
        with pytest.raises(DomainError) as caught:
            authenticate(phone, WRONG)
        codes.append(caught.value.code)
    return codes


def fresh(user_id: int) -> User:
    return _db.session.get(User, user_id, populate_existing=True)


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [
        (1, None),
        (4, None),
        (5, 1),
        (6, 2),
        (7, 4),
        (8, 8),
        (9, 16),
        (10, 32),
        (11, 60),
        (40, 60),
        (10**6, 60),
    ],
)
def test_lock_duration_doubles_to_an_hour(failures, minutes):
    expected = None if minutes is None else timedelta(minutes=minutes)
    assert lock_duration(failures) == expected


def test_five_failures_lock_even_the_right_password_out(db, now):
    user = make_user(Role.VOLUNTEER)
    assert fail(user.phone, 5) == ["bad_credentials"] * 4 + ["account_locked"]
    assert (fresh(user.id).failed_logins, fresh(user.id).locked_until) == (5, now + timedelta(minutes=1))
    with pytest.raises(AccountLocked) as caught:
        authenticate(user.phone, PASSWORD)
    assert caught.value.status == 429 and caught.value.code == "account_locked"
    assert caught.value.until == now + timedelta(minutes=1)
    # Attempts while locked are refused unchecked and do not lengthen the lock.
    assert fail(user.phone, 3) == ["account_locked"] * 3
    assert fresh(user.id).failed_logins == 5

    clock.freeze(now + timedelta(seconds=59))
    with pytest.raises(AccountLocked):
        authenticate(user.phone, PASSWORD)
    clock.freeze(now + timedelta(minutes=1))
    assert authenticate(user.phone, PASSWORD).id == user.id
    assert (fresh(user.id).failed_logins, fresh(user.id).locked_until) == (0, None)
    assert fail(user.phone, 4) == ["bad_credentials"] * 4  # a fresh count


def test_each_further_failure_doubles_the_lock(db, now):
    user = make_user(Role.VOLUNTEER)
    fail(user.phone, 5)
    for failures, minutes in [(6, 2), (7, 4), (8, 8), (9, 16), (10, 32), (11, 60), (12, 60)]:
        moment = fresh(user.id).locked_until  # the lock has just run out
        clock.freeze(moment)
        assert fail(user.phone) == ["account_locked"]
        locked = fresh(user.id)
        assert (locked.failed_logins, locked.locked_until) == (failures, moment + timedelta(minutes=minutes))


def test_the_message_says_when_to_try_again(app, db, now):
    user = make_user(Role.VOLUNTEER)
    fail(user.phone, 5)
    clock.freeze(now + timedelta(minutes=1))
    fail(user.phone)  # the 6th: 2 minutes
    clock.freeze(now + timedelta(minutes=1, seconds=30))
    with force_locale("en"):
        with pytest.raises(AccountLocked) as caught:
            authenticate(user.phone, PASSWORD)
        assert "Try again in 2 minutes." in str(caught.value.message)
    clock.freeze(now + timedelta(minutes=2, seconds=30))
    with force_locale("en"):
        with pytest.raises(AccountLocked) as caught:
            authenticate(user.phone, PASSWORD)
        assert "Try again in 1 minute." in str(caught.value.message)
    with pytest.raises(AccountLocked) as caught:
        authenticate(user.phone, PASSWORD)
    assert "1分钟" in str(caught.value.message)  # Chinese by default


def test_a_good_login_resets_the_count(db, now):
    user = make_user(Role.VOLUNTEER)
    fail(user.phone, 4)
    assert authenticate(user.phone, PASSWORD).id == user.id
    assert fresh(user.id).failed_logins == 0
    assert fail(user.phone, 4) == ["bad_credentials"] * 4


def test_unknown_phones_are_never_locked_and_write_nothing(db, now):
    before = count_rows(User)
    assert fail("13999990000", 12) == ["bad_credentials"] * 12
    assert count_rows(User) == before
    assert accounts.find_by_phone("13999990000") is None


def test_the_lock_is_per_account(db, now):
    user, other = make_user(Role.VOLUNTEER), make_user(Role.VOLUNTEER)
    fail(user.phone, 5)
    assert authenticate(other.phone, PASSWORD).id == other.id


def locked_message(app, until) -> str:
    with app.test_request_context():
        return str(AccountLocked(until).message)


def test_the_login_page_shows_the_lock_whatever_the_address(app, client, now):
    addresses = [f"10.0.0.{n}" for n in range(1, 6)]
    for address in addresses:  # one guess from each of five addresses
        client.post(
            "/auth/login",
            data={"phone": DEMO.volunteer, "password": WRONG},
            environ_base={"REMOTE_ADDR": address},
        )
    right = {"phone": DEMO.volunteer, "password": DEMO.password}
    response = client.post("/auth/login", data=right, environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 200
    assert locked_message(app, now + timedelta(minutes=1)) in response.get_data(as_text=True)
    assert client.get("/auth/profile").status_code == 302  # not logged in

    clock.freeze(now + timedelta(minutes=1))
    assert client.post("/auth/login", data=right).status_code == 302
    assert client.get("/auth/profile").status_code == 200
    with app.app_context():
        assert accounts.find_by_phone(DEMO.volunteer).failed_logins == 0


def test_the_api_answers_429_with_the_error_body(app, client, now):
    wrong = {"phone": DEMO.volunteer, "password": WRONG}
    statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(5)]
    assert statuses == [401] * 4 + [429]
    response = client.post("/api/v1/auth/token", json={"phone": DEMO.volunteer, "password": DEMO.password})
    assert response.status_code == 429
    assert response.get_json() == {
        "error": {"code": "account_locked", "message": locked_message(app, now + timedelta(minutes=1))}
    }
    assert response.headers["Retry-After"] == "60"  # seconds until the lock ends
    clock.freeze(now + timedelta(minutes=1))
    right = client.post("/api/v1/auth/token", json={"phone": DEMO.volunteer, "password": DEMO.password})
    assert right.status_code == 200 and right.get_json()["token"]


def test_the_api_documents_the_429(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    responses = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "account_locked" in responses["429"]["description"]
    assert responses["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


THREADS = 8


@pytest.fixture
def target(_app):
    """A volunteer committed for real (the threads must see each other's commits); removed afterwards."""
    with _app.app_context():
        user = accounts.create_user("撞库", "17799990001", PASSWORD, [Role.VOLUNTEER])
        _db.session.commit()
        user_id = user.id
        _db.session.remove()
    try:
        yield _app, user_id
    finally:
        with _app.app_context():
            _db.session.delete(_db.session.get(User, user_id))
            _db.session.commit()
            _db.session.remove()


def test_concurrent_failures_are_all_counted(target):
    """No lost update: the count reaches exactly 5 and locks, whatever the interleaving."""
    app, user_id = target

    def guess() -> str:
        authenticate("17799990001", WRONG)
        return "logged_in"

    codes = at_once(app, [guess] * THREADS)

    assert sorted(codes) == ["account_locked"] * (THREADS - 4) + ["bad_credentials"] * 4
    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.id == user_id))
        assert user.failed_logins == 5 and user.locked_until > clock.now()
        _db.session.remove()
