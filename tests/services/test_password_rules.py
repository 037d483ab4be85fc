"""Password rules: length, the common-password list, the phone number; applied
when a password is chosen (registration, change, create-admin), not at login."""

import pytest
from werkzeug.security import check_password_hash

from app.models import Role, User
from app.services import accounts
from app.services.demo import DEMO_PASSWORD
from app.services.errors import InvalidInput
from app.services.passwords import (
    COMMON_PASSWORDS_FILE,
    PASSWORD_MAX_LENGTH,
    check_password,
    common_passwords,
)
from tests.conftest import DEMO, count_rows
from tests.factories import make_tree

PHONE = "13912345601"


def refusal(password: str, phone: str | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_password(password, phone)
    assert caught.value.code == "weak_password" and caught.value.field == "password"
    return caught.value


def message_in_page(app, error: InvalidInput) -> str:
    """The message as the page shows it (Chinese once translated)."""
    with app.test_request_context():
        return str(error.message)


def english(app, error: InvalidInput) -> str:
    with app.test_request_context("/api/v1/", headers={"Accept-Language": "en"}):
        return str(error.message)


def test_length_is_8_to_128(app):
    assert "at least 8" in english(app, refusal("x7#kQ2!"))  # 7 characters
    assert check_password("x7#kQ2!v") == "x7#kQ2!v"
    assert check_password("k" * PASSWORD_MAX_LENGTH) == "k" * 128
    assert "at most 128" in english(app, refusal("k" * 129))
    refusal("")
    refusal(None)


@pytest.mark.parametrize(
    "password", ["password", "12345678", "88888888", "woaini1314", "qq123456", "1qaz2wsx", "zxcvbnm123"]
)
def test_common_passwords_are_refused(app, password):
    assert "common" in english(app, refusal(password))


@pytest.mark.parametrize("password", ["PassWord123", "QWERTY123", "WoAiNi1314", "  iloveyou1 ", "ZXCVBNM123"])
def test_the_list_is_compared_ignoring_case(app, password):
    refusal(password)


def test_the_list_ships_the_usual_ones_in_lower_case_and_not_the_demo_password():
    listed = common_passwords()
    assert len(listed) >= 300
    assert all(p == p.lower() and p == p.strip() for p in listed)
    usual = {"123456", "12345678", "password", "qwerty", "111111", "123123", "abc123", "iloveyou", "5201314"}
    usual |= {"woaini1314", "a123456", "qq123456", "88888888", "66666666", "1qaz2wsx", "zxcvbnm"}
    assert usual <= listed
    # The seed sets demo1234 through the same rule (create_user): it must pass.
    assert DEMO_PASSWORD not in listed
    assert "demo1234" not in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert check_password(DEMO_PASSWORD, DEMO.volunteer) == DEMO_PASSWORD


def test_the_phone_number_is_refused_alone_or_inside(app):
    assert "mobile number" in english(app, refusal(PHONE, PHONE))
    refusal(f"my{PHONE}", PHONE)
    refusal(f"{PHONE}!", PHONE)
    assert check_password(PHONE, "13800009999") == PHONE  # someone else's number is only digits


def test_registration_refuses_a_weak_password_and_saves_nothing(db):
    grid = make_tree("密码")["grids"][0]
    profile = accounts.VolunteerProfile(name="郑小红", grid_id=grid.id)
    before = count_rows(User)
    for password in ("Password1", "a123456789", f"x{PHONE}"):
        with pytest.raises(InvalidInput) as caught:
            accounts.register_volunteer(profile, PHONE, password)
        assert caught.value.code == "weak_password" and caught.value.field == "password"
    assert count_rows(User) == before
    assert accounts.register_volunteer(profile, PHONE, "kettle and lamp").phone == PHONE


def test_password_change_refuses_a_weak_password_and_keeps_the_old_one(db):
    user = accounts.find_by_phone(DEMO.volunteer)
    epoch = user.auth_epoch
    for new in ("iloveyou", "Qwerty123", DEMO.volunteer + "a", "short"):
        with pytest.raises(InvalidInput) as caught:
            accounts.change_password(user, DEMO.password, new)
        assert caught.value.code == "weak_password"
        assert caught.value.field == "new_password"  # the change form's field
    assert user.auth_epoch == epoch
    assert check_password_hash(user.password_hash, DEMO.password)


def test_create_admin_refuses_a_weak_password(db):
    before = count_rows(User)
    with pytest.raises(InvalidInput) as caught:
        accounts.create_admin("13911119999", "admin123")
    assert caught.value.code == "weak_password"
    assert count_rows(User) == before
    assert accounts.create_admin("13911119999", "a far better one").has_role(Role.ADMIN)


def test_create_admin_command_refuses_a_common_password(app, runner, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "Admin888")
    result = runner.invoke(args=["create-admin", "--phone", "13911119998"])
    assert result.exit_code != 0
    with app.app_context():  # the command speaks the default language
        assert str(refusal("admin888").message) in result.output
        assert accounts.find_by_phone("13911119998") is None


def test_login_does_not_apply_the_rule_to_an_old_password(db):
    """A password set before the rule keeps working; the rule is for choosing one."""
    user = accounts.find_by_phone(DEMO.resident)
    user.password_hash = accounts.hash_password("password")
    db.session.commit()
    assert accounts.authenticate(DEMO.resident, "password").id == user.id


def test_register_page_shows_the_refusal_beside_the_password(app, client):
    form = {"name": "郑小红", "phone": PHONE, "password": "iloveyou1", "confirm": "iloveyou1"}
    with app.app_context():
        form["grid_id"] = str(accounts.find_by_phone(DEMO.volunteer).grid_id)
        before = count_rows(User)
    response = client.post("/auth/register", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message_in_page(app, refusal("iloveyou1")) in page
    with app.app_context():
        assert count_rows(User) == before and accounts.find_by_phone(PHONE) is None


def test_password_page_shows_the_refusal_and_keeps_the_password(app, client, auth):
    auth.login(DEMO.volunteer)
    weak = {"current_password": DEMO.password, "new_password": "PASSWORD123", "confirm": "PASSWORD123"}
    response = client.post("/auth/password", data=weak)
    assert response.status_code == 200
    assert message_in_page(app, refusal("PASSWORD123")) in response.get_data(as_text=True)
    auth.logout()
    auth.login(DEMO.volunteer, DEMO.password)  # unchanged


def test_api_registration_refuses_a_weak_password(app, client):
    with app.app_context():
        grid_id = accounts.find_by_phone(DEMO.volunteer).grid_id
    body = {"name": "钱多多", "phone": PHONE, "password": "Qq123456", "grid_id": grid_id}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "weak_password"
    assert response.get_json()["error"]["message"] == message_in_page(app, refusal("Qq123456"))
