"""The public notice page of a community (no login) and residents' objections to it.

It shows only what public_notice_display.py makes of a notice: masked names,
categories, what help and when. An objection is rate-limited per address
exactly like the public help form.
"""

from flask import flash, redirect, render_template, url_for

from app.blueprints.forms import attach_error
from app.blueprints.help.routes import POST_LIMIT, SENT_LIMIT
from app.blueprints.notice import bp
from app.blueprints.notice.forms import ObjectionForm
from app.extensions import limiter
from app.services import public_notice_objections as objections
from app.services.errors import DomainError
from app.services.notice_board import get_community
from app.services.public_notice_display import get_live_notice, item_choices, live_notices


def _sent(response) -> bool:
    return response.status_code == 302


def _objection_form(notice, posted: bool = False, rows=None) -> ObjectionForm:
    """The objection form of one notice; each has its own prefix, several share a page."""
    form = (
        ObjectionForm(prefix=f"n{notice.id}")
        if posted
        else ObjectionForm(prefix=f"n{notice.id}", formdata=None)
    )
    form.set_choices(item_choices(notice, rows))
    return form


def _page(community, posted=None, status: int = 200):
    """The page; `posted` is (notice id, form) after a refused objection."""
    notices = live_notices(community.id)
    forms = {live.notice.id: _objection_form(live.notice, rows=live.rows) for live in notices}
    if posted is not None:
        forms[posted[0]] = posted[1]
    return render_template("notice/public.html", community=community, notices=notices, forms=forms), status


@bp.get("/notices/<int:community_id>")
def public_notices(community_id: int):
    """The community's notices shown now; a community without one says so."""
    return _page(get_community(community_id))


@bp.post("/notices/<int:community_id>/<int:notice_id>/objection")
@limiter.limit(SENT_LIMIT, deduct_when=_sent)
@limiter.limit(POST_LIMIT)
def object_to(community_id: int, notice_id: int):
    community = get_community(community_id)
    notice = get_live_notice(community.id, notice_id)
    form = _objection_form(notice, posted=True)
    if form.is_submitted() and form.website.data:
        return redirect(url_for("notice.objection_sent", community_id=community.id))  # a bot: store nothing
    if form.validate_on_submit():
        try:
            objections.submit_objection(
                community.id, notice.id, form.text.data, form.contact.data or "", form.item_id.data
            )
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            return redirect(url_for("notice.objection_sent", community_id=community.id))
    return _page(community, posted=(notice.id, form), status=422)


@bp.get("/notices/<int:community_id>/thanks")
def objection_sent(community_id: int):
    return render_template("notice/thanks.html", community=get_community(community_id))
