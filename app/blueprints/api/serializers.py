"""Model → JSON-ready dicts, one function per shape."""

from app.models import User


def user_brief(user: User) -> dict:
    return {
        "id": user.id,
        "name": user.name,
        "roles": sorted(role.value for role in user.role_set),
    }
