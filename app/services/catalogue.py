"""Catalogues kept as data: skills and service types (defaults come with the migrations;
administrators add and change services)."""

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import require_role
from app.extensions import db
from app.models import Role, ServiceType, Skill
from app.services import audit, points
from app.services.errors import InvalidInput


def list_skills() -> list[Skill]:
    return list(db.session.scalars(sa.select(Skill).order_by(Skill.position, Skill.code)))


def active_service_type(code, field: str) -> ServiceType:
    """The active service type with this code; else InvalidInput on `field`."""
    service = db.session.get(ServiceType, code) if isinstance(code, str) else None
    if service is None or not service.active:
        raise InvalidInput(_l("Choose a service from the list."), code="unknown_service_type", field=field)
    return service


def active_service_types() -> list[ServiceType]:
    """The services a need can ask for, in catalogue order."""
    stmt = sa.select(ServiceType).where(ServiceType.active).order_by(ServiceType.position, ServiceType.code)
    return list(db.session.scalars(stmt))


@dataclass
class ServiceTypeData:
    code: str
    name_zh: str
    name_en: str
    skill_code: str
    points_per_visit: int
    points_per_hour: int
    active: bool = True


CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def all_service_types() -> list[ServiceType]:
    return list(db.session.scalars(sa.select(ServiceType).order_by(ServiceType.position, ServiceType.code)))


def with_rates(services: list[ServiceType]) -> list[tuple[ServiceType, int, int]]:
    """Each service with the points per visit and per hour in force today (0 where none)."""
    rates = points.rates_in_force()
    return [
        (
            s,
            rates[s.code].points_per_visit if s.code in rates else 0,
            rates[s.code].points_per_hour if s.code in rates else 0,
        )
        for s in services
    ]


def save_service_type(actor, data: ServiceTypeData) -> ServiceType:
    """Add a service to the catalogue, or change one (administrators); commit.

    The code names the service for good (tasks and needs refer to it), so an
    existing code changes its names, skill or whether it is offered. New
    points take effect today as a new PointRate (visits already paid keep
    the rate they were paid by).
    """
    require_role(actor, Role.ADMIN)
    code = (data.code or "").strip().lower()
    if not CODE_RE.fullmatch(code):
        raise InvalidInput(
            _l("The code is 2 to 32 lower-case letters, digits or _, starting with a letter."),
            code="invalid_code",
            field="code",
        )
    names = {}
    for field in ("name_zh", "name_en"):
        value = (getattr(data, field) or "").strip()
        if not 1 <= len(value) <= (50 if field == "name_zh" else 80):
            raise InvalidInput(_l("Enter both names."), code="invalid_name", field=field)
        names[field] = value
    if db.session.get(Skill, data.skill_code) is None:
        raise InvalidInput(_l("Choose skills from the list."), code="unknown_skill", field="skill_code")
    for field in ("points_per_visit", "points_per_hour"):
        value = getattr(data, field)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
            raise InvalidInput(
                _l("Points are whole numbers from 0 to 1000."), code="invalid_points", field=field
            )
    service = db.session.get(ServiceType, code)
    action = "update" if service else "create"
    if service is None:
        position = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ServiceType.position), 0))) + 1
        service = ServiceType(code=code, position=position)
        db.session.add(service)
    service.name_zh, service.name_en = names["name_zh"], names["name_en"]
    service.skill_code = data.skill_code
    service.active = bool(data.active)
    db.session.flush()
    rate = points.rate_in_force(code, clock.today())
    if rate is None or (rate.points_per_visit, rate.points_per_hour) != (
        data.points_per_visit,
        data.points_per_hour,
    ):
        points.add_rate(actor, code, clock.today(), data.points_per_visit, data.points_per_hour)
    audit.record(actor, action, "service_type", None, note=code)
    db.session.commit()
    return service
