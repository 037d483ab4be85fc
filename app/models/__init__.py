"""All models, imported so that Alembic and the app see every table."""

from app.models.catalogue import Skill
from app.models.org import City, Community, Grid, Street
from app.models.user import FreeTime, Role, User, UserRole, VolunteerFreeTime, user_skill

__all__ = [
    "City",
    "Community",
    "FreeTime",
    "Grid",
    "Role",
    "Skill",
    "Street",
    "User",
    "UserRole",
    "VolunteerFreeTime",
    "user_skill",
]
