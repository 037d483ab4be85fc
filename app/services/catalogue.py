"""Catalogues kept as data. The default skills come with the first migration."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Skill


def list_skills() -> list[Skill]:
    return list(db.session.scalars(sa.select(Skill).order_by(Skill.position, Skill.code)))
