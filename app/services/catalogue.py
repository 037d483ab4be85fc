"""Catalogues kept as data. The default skills come with the first migration."""

import sqlalchemy as sa

from app.extensions import db
from app.models import ServiceType, Skill


def list_skills() -> list[Skill]:
    return list(db.session.scalars(sa.select(Skill).order_by(Skill.position, Skill.code)))


def active_service_types() -> list[ServiceType]:
    """The services a need can ask for, in catalogue order."""
    stmt = sa.select(ServiceType).where(ServiceType.active).order_by(ServiceType.position, ServiceType.code)
    return list(db.session.scalars(stmt))
