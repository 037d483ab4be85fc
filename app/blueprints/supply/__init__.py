"""The supply list (供给清单) and its matching to needs (供需对接).

`bp` (/supply): the organisation desk (offers, accepted matches, members),
the street's offers for street officers, and the staff page of each
community's needs with suggested offers and volunteers (需求与供给).
`me_bp` (/me/organisations): a volunteer's invitations and organisations.
"""

from flask import Blueprint

bp = Blueprint("supply", __name__, url_prefix="/supply")
me_bp = Blueprint("supply_me", __name__, url_prefix="/me/organisations")

from app.blueprints.supply import desk, routes, volunteers  # noqa: E402,F401
