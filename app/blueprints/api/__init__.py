"""JSON API v1 (CONTRACT.md): bearer tokens only, no cookies, no CSRF."""

from flask import Flask

from app.extensions import api, csrf


def register_api(app: Flask) -> None:
    from app.blueprints.api.auth import blp as auth_blp
    from app.blueprints.api.catalogue import blp as catalogue_blp
    from app.blueprints.api.honour import blp as honour_blp
    from app.blueprints.api.households import blp as households_blp
    from app.blueprints.api.me import blp as me_blp
    from app.blueprints.api.org import blp as org_blp
    from app.blueprints.api.paths import RowIdConverter
    from app.blueprints.api.points import blp as points_blp
    from app.blueprints.api.tasks import blp as tasks_blp
    from app.blueprints.api.visits import blp as visits_blp

    app.url_map.converters["row_id"] = RowIdConverter

    for blp in (
        auth_blp,
        me_blp,
        org_blp,
        households_blp,
        catalogue_blp,
        tasks_blp,
        visits_blp,
        points_blp,
        honour_blp,
    ):
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)
