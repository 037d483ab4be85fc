"""Accounts: registration, login, passwords, profiles and API tokens."""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.auth_scope import unscoped_get
from app.extensions import db
from app.models import FreeTime, Grid, Role, Skill, User, UserRole, VolunteerFreeTime
from app.models.types import UTCDateTime
from app.services.errors import Conflict, DomainError, InvalidInput, NotFound, Unauthorized
from app.services.passwords import PASSWORD_MAX_LENGTH as PASSWORD_MAX_LENGTH
from app.services.passwords import PASSWORD_MIN_LENGTH as PASSWORD_MIN_LENGTH
from app.services.passwords import check_password

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
# A household's contact: a mobile, or a landline with its area code (010-12345678).
CONTACT_PHONE_RE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")
# Per client address (Flask-Limiter); the lockout below is per account.
LOGIN_LIMIT = "10 per minute; 100 per day"
REGISTER_LIMIT = "5 per hour; 20 per day"
TOKEN_SALT = "api-token"
# Consecutive failed logins before the first lock, its length, and the longest
# lock: each further failure doubles it (1, 2, 4 … 60 minutes).
LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(minutes=1)
LOCKOUT_LONGEST = timedelta(minutes=60)

# Roles and the org level their unit sits at.
UNIT_LEVEL = {
    Role.STREET_OFFICER: "street",
    Role.COMMUNITY_WORKER: "community",
    Role.GRID_WORKER: "grid",
    Role.VOLUNTEER: "grid",
    Role.RESIDENT: "grid",
}


@dataclass
class VolunteerProfile:
    """What a volunteer tells us about themselves."""

    name: str
    grid_id: int
    skills: list[str] = field(default_factory=list)
    free_times: list[str] = field(default_factory=list)


def is_valid_phone(phone: str) -> bool:
    """A mainland mobile number: 11 digits starting 1[3-9]."""
    return bool(PHONE_RE.fullmatch(phone or ""))


def check_phone(phone: str) -> str:
    """The phone, stripped, or InvalidInput(code="invalid_phone")."""
    phone = (phone or "").strip()
    if not is_valid_phone(phone):
        raise InvalidInput(
            _l("Enter an 11-digit mainland mobile number starting with 13–19."),
            code="invalid_phone",
            field="phone",
        )
    return phone


def check_contact_phone(phone: str, field: str = "phone") -> str:
    """A mobile or a landline with area code, spaces and brackets dropped; else InvalidInput.

    Many elderly people have only a landline, so contacts accept both.
    """
    phone = re.sub(r"[\s()]", "", phone or "")
    if not CONTACT_PHONE_RE.fullmatch(phone):
        raise InvalidInput(
            _l("Enter a mobile number (11 digits) or a landline with area code."),
            code="invalid_phone",
            field=field,
        )
    return phone


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def find_by_phone(phone: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise InvalidInput(_l("Enter a name of 1 to 50 characters."), code="invalid_name", field="name")
    return name


def _load_profile_parts(profile: VolunteerProfile) -> tuple[Grid, list[Skill], list[FreeTime]]:
    """The grid, skills and free times a profile names, or InvalidInput."""
    grid = unscoped_get(Grid, profile.grid_id)
    if grid is None:
        raise InvalidInput(_l("Choose a grid from the list."), code="unknown_grid", field="grid_id")
    codes = list(dict.fromkeys(profile.skills))
    skills = list(db.session.scalars(sa.select(Skill).where(Skill.code.in_(codes)))) if codes else []
    if len(skills) != len(codes):
        raise InvalidInput(_l("Choose skills from the list."), code="unknown_skill", field="skills")
    try:
        free_times = [FreeTime(v) for v in dict.fromkeys(profile.free_times)]
    except ValueError:
        raise InvalidInput(
            _l("Choose free times from the list."), code="unknown_free_time", field="free_times"
        ) from None
    return grid, skills, free_times


def register_volunteer(profile: VolunteerProfile, phone: str, password: str) -> User:
    """Create a volunteer account in the chosen grid and commit it.

    Raises InvalidInput (bad phone, name, password, grid, skill or free time)
    and Conflict(code="phone_taken").
    """
    name = _check_name(profile.name)
    phone = check_phone(phone)
    check_password(password, phone)
    grid, skills, free_times = _load_profile_parts(profile)
    if find_by_phone(phone) is not None:
        raise _phone_taken()
    user = User(name=name, phone=phone, password_hash=hash_password(password), grid_id=grid.id)
    user.roles = [UserRole(role=Role.VOLUNTEER)]
    user.skills = skills
    user.free_times = [VolunteerFreeTime(slot=slot) for slot in free_times]
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same phone registered a moment ago
        db.session.rollback()
        raise _phone_taken() from None
    return user


def _phone_taken() -> Conflict:
    return Conflict(
        _l("This phone number is already registered. Log in instead."),
        code="phone_taken",
        field="phone",
    )


def update_volunteer_profile(user: User, profile: VolunteerProfile, show_full_name: bool) -> User:
    """Change a user's name, grid, skills and free times; commit.

    Only volunteers choose their own grid; staff keep the unit they were given.
    """
    name = _check_name(profile.name)
    grid, skills, free_times = _load_profile_parts(profile)
    user.name = name
    user.show_full_name = show_full_name
    if edits_own_grid(user):
        user.grid_id = grid.id
    user.skills = skills
    user.free_times = [VolunteerFreeTime(slot=slot) for slot in free_times]
    db.session.commit()
    return user


class AccountLocked(DomainError):
    """Too many wrong passwords in a row: the account refuses every login for a while."""

    status = 429
    code = "account_locked"

    def __init__(self, until: datetime):
        self.until = until
        seconds = max(1, math.ceil((until - clock.now()).total_seconds()))
        self.headers = {"Retry-After": str(seconds)}
        minutes = math.ceil(seconds / 60)
        super().__init__(
            lazy_ngettext(
                "Too many wrong passwords: this account is locked. Try again in %(num)d minute.",
                "Too many wrong passwords: this account is locked. Try again in %(num)d minutes.",
                minutes,
            )
        )


def lock_duration(failures: int) -> timedelta | None:
    """How long the `failures`-th consecutive failed login locks the account, or None."""
    if failures < LOCKOUT_AFTER:
        return None
    doublings = min(failures - LOCKOUT_AFTER, 30)  # past the cap anyway; keeps timedelta in range
    return min(LOCKOUT_FIRST * 2**doublings, LOCKOUT_LONGEST)


def authenticate(phone: str, password: str) -> User:
    """The active user with this phone and password; commits the failure count.

    Unknown phone and wrong password answer alike, so the form cannot be used
    to find out who is registered; the hash is checked either way, and an
    unknown phone writes nothing. The 5th failure in a row and each later one
    lock the account (lock_duration); while locked even the right password is
    refused with AccountLocked, and a successful login resets the count.
    Raises Unauthorized(code="bad_credentials") and AccountLocked (429).
    """
    stmt = sa.select(User).where(User.phone == (phone or "").strip())
    user = db.session.scalar(stmt.execution_options(populate_existing=True))
    now = clock.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    stored = user.password_hash if user else _dummy_hash()
    if not check_password_hash(stored, password or ""):
        locked_until = _record_failure(user.id, now) if user is not None else None
        if locked_until is not None and locked_until > now:
            raise AccountLocked(locked_until)
        raise _bad_credentials()
    if user is None or not user.active:
        raise _bad_credentials()
    if user.failed_logins or user.locked_until is not None:
        _reset_failures(user.id, now)
    return user


def _bad_credentials() -> Unauthorized:
    return Unauthorized(_l("Wrong phone number or password."), code="bad_credentials")


def _not_locked(now: datetime):
    return sa.or_(User.locked_until.is_(None), User.locked_until <= now)


def _record_failure(user_id: int, now: datetime) -> datetime | None:
    """Count a failed login and lock the account if it has earned it; commit.

    One conditional UPDATE, so concurrent failures are each counted (no lost
    update) and a failure that arrives after another locked the account is
    not counted again. Returns the account's lock, if any.
    """
    failures = User.failed_logins + 1
    steps, n = [], LOCKOUT_AFTER
    while lock_duration(n) < LOCKOUT_LONGEST:
        steps.append((failures == n, sa.literal(now + lock_duration(n), UTCDateTime)))
        n += 1
    lock = sa.case(
        (failures < LOCKOUT_AFTER, sa.null()),
        *steps,
        else_=sa.literal(now + LOCKOUT_LONGEST, UTCDateTime),
    )
    stmt = (
        sa.update(User)
        .where(User.id == user_id, _not_locked(now))
        .values(failed_logins=failures, locked_until=lock)
        .returning(User.locked_until)
    )
    row = db.session.execute(stmt, execution_options={"synchronize_session": False}).first()
    db.session.commit()
    return row.locked_until if row is not None else _lock_of(user_id)


def _reset_failures(user_id: int, now: datetime) -> None:
    """Clear the failure count after a good login; commit. AccountLocked if a
    concurrent failure locked the account in the meantime."""
    stmt = sa.update(User).where(User.id == user_id, _not_locked(now))
    result = db.session.execute(
        stmt.values(failed_logins=0, locked_until=None), execution_options={"synchronize_session": False}
    )
    db.session.commit()
    if result.rowcount != 1 and (lock := _lock_of(user_id)) is not None:
        raise AccountLocked(lock)


def _lock_of(user_id: int) -> datetime | None:
    return db.session.scalar(sa.select(User.locked_until).where(User.id == user_id))


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY[method]


def change_password(user: User, current: str, new: str) -> User:
    """Set a new password after checking the current one; commit.

    Bumps the auth epoch, which ends every other session and API token.
    """
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput(
            _l("The current password is wrong."), code="bad_credentials", field="current_password"
        )
    check_password(new, user.phone, field="new_password")
    user.password_hash = hash_password(new)
    user.auth_epoch += 1
    db.session.commit()
    return user


def create_user(
    name: str,
    phone: str,
    password: str,
    roles: list[Role],
    *,
    street_id: int | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    skills: list[Skill] = (),
) -> User:
    """Create a user with roles and an org unit (for staff set-up and the CLI); flush only."""
    phone = check_phone(phone)
    check_password(password, phone)
    if find_by_phone(phone) is not None:
        raise _phone_taken()
    user = User(
        name=_check_name(name),
        phone=phone,
        password_hash=hash_password(password),
        street_id=street_id,
        community_id=community_id,
        grid_id=grid_id,
    )
    user.roles = [UserRole(role=r) for r in dict.fromkeys(roles)]
    user.skills = list(skills)
    db.session.add(user)
    db.session.flush()
    return user


def create_admin(phone: str, password: str, name: str = "管理员") -> User:
    """Make an administrator, or give an existing user the admin role; commit."""
    phone = check_phone(phone)
    user = find_by_phone(phone)
    if user is None:
        user = create_user(name, phone, password, [Role.ADMIN])
    elif not user.has_role(Role.ADMIN):
        user.roles.append(UserRole(role=Role.ADMIN))
    db.session.commit()
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_api_token(user: User) -> str:
    """A signed bearer token naming the user and their auth epoch."""
    return _serializer().dumps({"uid": user.id, "ep": user.auth_epoch})


def user_from_api_token(token: str) -> User:
    """The user a bearer token names, or Unauthorized (bad, expired or revoked)."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise Unauthorized(_l("The token has expired. Log in again."), code="token_expired") from None
    except BadSignature:
        raise Unauthorized(_l("The token is not valid."), code="invalid_token") from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or user.auth_epoch != data.get("ep"):
        raise Unauthorized(_l("The token has been revoked. Log in again."), code="token_revoked")
    return user


def user_from_session_id(session_id: str) -> User | None:
    """The user for a Flask-Login id `"<id>.<epoch>"`, or None if stale."""
    try:
        user_id, epoch = (int(part) for part in session_id.split("."))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.auth_epoch != epoch:
        return None
    return user


def load_profile(user_id: int) -> User:
    """A user with skills and free times loaded, for the profile page."""
    stmt = (
        sa.select(User)
        .where(User.id == user_id)
        .options(selectinload(User.skills), selectinload(User.free_times))
    )
    user = db.session.scalar(stmt)
    if user is None:
        raise NotFound()
    return user


def edits_own_grid(user: User) -> bool:
    """Volunteers choose their own grid and skills; staff are placed by others."""
    return user.has_role(Role.VOLUNTEER) and not user.is_staff


def update_name(user: User, name: str, show_full_name: bool) -> User:
    """Change the display name and honour-board preference; commit."""
    user.name = _check_name(name)
    user.show_full_name = show_full_name
    db.session.commit()
    return user
