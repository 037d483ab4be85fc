"""The public help pages: choose a grid, ask its staff for help, thank you."""

from flask import flash, redirect, render_template, request, url_for

from app.blueprints.forms import attach_error
from app.blueprints.help import bp
from app.blueprints.help.forms import GridChoiceForm, HelpRequestForm
from app.extensions import limiter
from app.services import help_requests
from app.services.catalogue import active_service_types
from app.services.errors import DomainError
from app.services.org import grid_choices

# Per remote address. Only requests that went through (a redirect to the
# thank-you page, the honeypot's included) use up the first allowance, so an
# elderly user correcting a typo is not locked out; every POST counts
# towards the second, which bounds scripted noise.
SENT_LIMIT = "5 per hour; 20 per day"
POST_LIMIT = "30 per hour"


def _sent(response) -> bool:
    return response.status_code == 302


@bp.get("")
def choose():
    """Pick street → community → grid; a GET form, then on to that grid's page."""
    chosen = "grid_id" in request.args
    form = GridChoiceForm(formdata=request.args if chosen else None)
    form.set_choices(grid_choices())
    if chosen and form.validate():
        return redirect(url_for("help.ask", grid_id=form.grid_id.data))
    return render_template("help/choose.html", form=form)


@bp.route("/g/<int:grid_id>", methods=["GET", "POST"])
@limiter.limit(SENT_LIMIT, methods=["POST"], deduct_when=_sent)
@limiter.limit(POST_LIMIT, methods=["POST"])
def ask(grid_id: int):
    """The form for one grid: the address a grid's QR poster carries."""
    grid = help_requests.grid_for_help(grid_id)
    form = HelpRequestForm()
    form.set_choices(active_service_types())
    if form.is_submitted() and form.website.data:
        return redirect(url_for("help.thanks", grid_id=grid.id))  # a bot: store nothing, say nothing
    if form.validate_on_submit():
        try:
            help_requests.submit_help_request(
                grid.id,
                form.name.data,
                form.phone.data,
                form.address.data,
                form.need.data,
                form.service_type_code.data or None,
            )
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            return redirect(url_for("help.thanks", grid_id=grid.id))
    return render_template("help/ask.html", form=form, grid=grid)


@bp.get("/g/<int:grid_id>/thanks")
def thanks(grid_id: int):
    grid = help_requests.grid_for_help(grid_id)
    return render_template("help/thanks.html", grid=grid)
