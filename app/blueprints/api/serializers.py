"""Model → JSON-ready dicts, one function per shape."""

from app.models import User


def user_brief(user: User) -> dict:
    return {
        "id": user.id,
        "name": user.name,
        "roles": sorted(role.value for role in user.role_set),
    }


def page_of(stmt, page: int, per_page: int, serialize) -> dict:
    """One page of `stmt` in the list shape every API list uses: {items, page, per_page, total}."""
    from app.extensions import db

    found = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return {
        "items": [serialize(row) for row in found.items],
        "page": page,
        "per_page": per_page,
        "total": found.total,
    }
