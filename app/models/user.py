"""People who log in: roles, their org unit, and what volunteers offer."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.catalogue import Skill
from app.models.types import UTCDateTime, enum_column, utcnow


class Role(enum.Enum):
    """What a user may do; a user may hold several roles."""

    ADMIN = "admin"
    STREET_OFFICER = "street_officer"
    COMMUNITY_WORKER = "community_worker"
    GRID_WORKER = "grid_worker"
    VOLUNTEER = "volunteer"
    RESIDENT = "resident"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STREET_OFFICER: _l("Street officer"),
    Role.COMMUNITY_WORKER: _l("Community worker"),
    Role.GRID_WORKER: _l("Grid worker"),
    Role.VOLUNTEER: _l("Volunteer"),
    Role.RESIDENT: _l("Resident"),
    Role.PARTNER: _l("Partner"),
}

STAFF_ROLES = frozenset({Role.STREET_OFFICER, Role.COMMUNITY_WORKER, Role.GRID_WORKER})


class FreeTime(enum.Enum):
    """When a volunteer is usually free, in coarse weekly slots."""

    WEEKDAY_MORNING = "weekday_morning"
    WEEKDAY_AFTERNOON = "weekday_afternoon"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKEND_MORNING = "weekend_morning"
    WEEKEND_AFTERNOON = "weekend_afternoon"
    WEEKEND_EVENING = "weekend_evening"

    @property
    def label(self) -> str:
        return str(FREE_TIME_LABELS[self])


FREE_TIME_LABELS = {
    FreeTime.WEEKDAY_MORNING: _l("Weekday mornings"),
    FreeTime.WEEKDAY_AFTERNOON: _l("Weekday afternoons"),
    FreeTime.WEEKDAY_EVENING: _l("Weekday evenings"),
    FreeTime.WEEKEND_MORNING: _l("Weekend mornings"),
    FreeTime.WEEKEND_AFTERNOON: _l("Weekend afternoons"),
    FreeTime.WEEKEND_EVENING: _l("Weekend evenings"),
}


user_skill = sa.Table(
    "user_skill",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill_code", sa.ForeignKey("skill.code"), primary_key=True),
)


class User(db.Model):
    """Someone who logs in with a mainland mobile number and a password.

    A staff user belongs to one org unit (a street, a community or a grid) and
    sees that unit's subtree; volunteers and residents belong to a grid. At
    most one of the three unit columns is set.
    """

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    phone: Mapped[str] = mapped_column(sa.String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    # Bumped on every password change: ends other sessions and API tokens.
    auth_epoch: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    show_full_name: Mapped[bool] = mapped_column(default=False)
    # Secret in the URL of the volunteer's calendar feed (iCalendar); None: no feed.
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Consecutive failed logins and the lock they earned; per account, so
    # spreading guesses over many addresses does not help (services.accounts).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    street_id: Mapped[int | None] = mapped_column(sa.ForeignKey("street.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid.id"), index=True)

    roles: Mapped[list["UserRole"]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )
    skills: Mapped[list[Skill]] = relationship(secondary=user_skill, lazy="raise", order_by=Skill.position)
    free_times: Mapped[list["VolunteerFreeTime"]] = relationship(lazy="raise", cascade="all, delete-orphan")
    street = relationship("Street", lazy="raise")
    community = relationship("Community", lazy="raise")
    grid = relationship("Grid", lazy="raise")

    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN street_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN community_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN grid_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_org_unit",
        ),
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, *roles: Role) -> bool:
        """True if the user holds any of `roles`."""
        return not self.role_set.isdisjoint(roles)

    @property
    def is_staff(self) -> bool:
        return self.has_role(Role.ADMIN, *STAFF_ROLES)

    # Flask-Login protocol. The id carries the auth epoch, so a session made
    # before a password change no longer loads a user.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.auth_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserRole(db.Model):
    """One role held by one user."""

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles", lazy="raise")


class VolunteerFreeTime(db.Model):
    """A weekly slot in which a volunteer is usually free."""

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[FreeTime] = mapped_column(enum_column(FreeTime), primary_key=True)
