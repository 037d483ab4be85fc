"""Accounts: registration, login, password change and API tokens, without HTTP."""

import pytest
import sqlalchemy as sa

from app.models import FreeTime, Grid, Role, User
from app.services import accounts
from app.services.errors import Conflict, InvalidInput, Unauthorized
from tests.conftest import DEMO, count_rows


def a_grid(db) -> Grid:
    return db.session.scalar(sa.select(Grid).order_by(Grid.id))


def profile(grid_id, **overrides):
    fields = {"name": "吴大伟", "grid_id": grid_id, "skills": ["tutoring"], "free_times": ["weekend_morning"]}
    fields |= overrides
    return accounts.VolunteerProfile(**fields)


def test_register_volunteer(db):
    grid = a_grid(db)
    user = accounts.register_volunteer(profile(grid.id), "13912345678", "long enough")
    user = accounts.load_profile(user.id)
    assert user.role_set == {Role.VOLUNTEER}
    assert user.grid_id == grid.id
    assert [s.code for s in user.skills] == ["tutoring"]
    assert [ft.slot for ft in user.free_times] == [FreeTime.WEEKEND_MORNING]
    assert user.password_hash != "long enough"


@pytest.mark.parametrize(
    "phone", ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "+8613812345678"]
)
def test_register_refuses_malformed_phone(db, phone):
    before = count_rows(User)
    with pytest.raises(InvalidInput) as error:
        accounts.register_volunteer(profile(a_grid(db).id), phone, "long enough")
    assert error.value.code == "invalid_phone" and error.value.field == "phone"
    assert count_rows(User) == before


@pytest.mark.parametrize("phone", ["13012345678", "19912345678", " 15012345678 "])
def test_valid_phones(db, phone):
    user = accounts.register_volunteer(profile(a_grid(db).id), phone, "long enough")
    assert user.phone == phone.strip()


def test_duplicate_phone_is_a_conflict_and_writes_nothing(db):
    before = count_rows(User)
    with pytest.raises(Conflict) as error:
        accounts.register_volunteer(profile(a_grid(db).id), DEMO.volunteer, "long enough")
    assert error.value.code == "phone_taken"
    assert count_rows(User) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"grid_id": 999999}, "unknown_grid"),
        ({"skills": ["juggling"]}, "unknown_skill"),
        ({"free_times": ["midnight"]}, "unknown_free_time"),
        ({"name": "  "}, "invalid_name"),
        ({"name": "名" * 51}, "invalid_name"),
    ],
)
def test_register_refuses_bad_profile(db, overrides, code):
    before = count_rows(User)
    with pytest.raises(InvalidInput) as error:
        fields = {"grid_id": a_grid(db).id} | overrides
        accounts.register_volunteer(profile(**fields), "13912345670", "long enough")
    assert error.value.code == code
    assert count_rows(User) == before


def test_register_refuses_short_password(db):
    with pytest.raises(InvalidInput) as error:
        accounts.register_volunteer(profile(a_grid(db).id), "13912345671", "short")
    assert error.value.code == "weak_password"


def test_authenticate(db):
    assert accounts.authenticate(DEMO.volunteer, DEMO.password).phone == DEMO.volunteer


@pytest.mark.parametrize(
    ("phone", "password"),
    [(DEMO.volunteer, "wrong password"), ("13999999999", DEMO.password), ("not a phone", "x"), ("", "")],
)
def test_authenticate_refuses_alike(db, phone, password):
    with pytest.raises(Unauthorized) as error:
        accounts.authenticate(phone, password)
    assert error.value.code == "bad_credentials"


def test_inactive_user_cannot_log_in(db):
    user = accounts.find_by_phone(DEMO.volunteer)
    user.active = False
    db.session.commit()
    with pytest.raises(Unauthorized):
        accounts.authenticate(DEMO.volunteer, DEMO.password)


def test_change_password_revokes_tokens_and_sessions(db):
    user = accounts.find_by_phone(DEMO.volunteer)
    token = accounts.issue_api_token(user)
    old_session_id = user.get_id()
    assert accounts.user_from_api_token(token).id == user.id

    accounts.change_password(user, DEMO.password, "a new password")

    with pytest.raises(Unauthorized) as error:
        accounts.user_from_api_token(token)
    assert error.value.code == "token_revoked"
    assert accounts.user_from_session_id(old_session_id) is None
    assert accounts.user_from_session_id(user.get_id()).id == user.id
    assert accounts.authenticate(DEMO.volunteer, "a new password").id == user.id


def test_change_password_checks_the_current_one(db):
    user = accounts.find_by_phone(DEMO.volunteer)
    with pytest.raises(InvalidInput) as error:
        accounts.change_password(user, "not it", "a new password")
    assert error.value.field == "current_password"
    assert user.auth_epoch == 0


def test_tampered_and_expired_tokens(db, app):
    user = accounts.find_by_phone(DEMO.volunteer)
    token = accounts.issue_api_token(user)
    with pytest.raises(Unauthorized) as error:
        accounts.user_from_api_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert error.value.code == "invalid_token"
    app.config["API_TOKEN_MAX_AGE"] = -1
    try:
        with pytest.raises(Unauthorized) as error:
            accounts.user_from_api_token(token)
        assert error.value.code == "token_expired"
    finally:
        app.config["API_TOKEN_MAX_AGE"] = 7 * 24 * 3600


@pytest.mark.parametrize("session_id", ["", "abc", "1", "1.2.3", "x.y"])
def test_malformed_session_ids_load_nobody(db, session_id):
    assert accounts.user_from_session_id(session_id) is None


def test_create_admin_is_idempotent_and_promotes(db):
    admin = accounts.create_admin("13911112222", "long enough")
    again = accounts.create_admin("13911112222", "other password")
    assert admin.id == again.id and again.role_set == {Role.ADMIN}
    promoted = accounts.create_admin(DEMO.volunteer, "ignored password")
    assert promoted.role_set == {Role.ADMIN, Role.VOLUNTEER}


def test_staff_keep_their_grid_when_editing_profile(db):
    user = accounts.load_profile(accounts.find_by_phone(DEMO.grid_worker).id)
    other = db.session.scalars(sa.select(Grid).where(Grid.id != user.grid_id)).first()
    accounts.update_volunteer_profile(user, profile(other.id), show_full_name=True)
    assert user.grid_id != other.id and user.show_full_name


@pytest.mark.parametrize(
    ("given", "kept"),
    [("13912345678", "13912345678"), ("010-12345678", "010-12345678"), ("(0755) 1234 5678", "075512345678")],
)
def test_contact_phones_accept_mobiles_and_landlines(given, kept):
    assert accounts.check_contact_phone(given) == kept


@pytest.mark.parametrize("bad", ["12345", "1391234567８", "010-123", "２３"])
def test_contact_phones_refuse_the_rest(bad):
    with pytest.raises(InvalidInput):
        accounts.check_contact_phone(bad)
