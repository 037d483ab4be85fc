"""The honour board page, the notice-board display for a community's screen, and team pages.

The honour board and the display are public (no login): they show masked
names and points, never a phone, an ID number or a household.
"""

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.board import bp
from app.blueprints.board.forms import ActionForm, BoardChoiceForm, CommunityChoiceForm, TeamForm
from app.blueprints.forms import attach_error
from app.models import Role
from app.services import honour, notice_board, teams
from app.services.errors import DomainError, Forbidden, NotFound


def _default_scope() -> str | None:
    """The viewer's community, else the first community."""
    community_id = teams.community_of(current_user)
    if community_id is None:
        first = teams.communities()
        community_id = first[0].id if first else None
    return f"community:{community_id}" if community_id else None


@bp.get("/honour-board")
def honour_board():
    """Volunteers and teams ranked by points earned; scope and period from a GET form."""
    form = BoardChoiceForm(request.args)
    form.set_choices(honour.scope_options())
    if not request.args:
        form.scope.data = _default_scope()
    elif not form.validate():
        form.scope.data, form.period.data = _default_scope(), "month"
    boards = None
    if form.scope.data:
        scope = honour.parse_scope(form.scope.data)
        boards = [honour.honour_board(scope, form.period.data, kind) for kind in honour.KINDS]
    return render_template("board/honour.html", form=form, boards=boards)


# The display is meant to be shown full screen on a TV, and a community's
# screen software may embed it in an iframe: no frame-blocking header is set
# here (response headers are the deployment's decision).
@bp.get("/board/<int:community_id>")
def display(community_id: int):
    """The notice-board screen: rendered in full here, then kept fresh by notice-board.js."""
    data = notice_board.display_data(community_id)
    return render_template(
        "board/display.html",
        data=data,
        data_url=url_for("board.display_data", community_id=community_id),
    )


@bp.get("/board/<int:community_id>/data.json")
def display_data(community_id: int):
    return jsonify(notice_board.display_data(community_id))


@bp.get("/board/<int:community_id>/qr/<which>.png")
def display_qr(community_id: int, which: str):
    return Response(notice_board.qr_png(community_id, which), mimetype="image/png")


# --- teams ---------------------------------------------------------------------------


@bp.get("/teams")
@login_required
def team_list():
    """The teams of a community (the viewer's by default); volunteers create, join, leave."""
    return _teams_page(TeamForm(formdata=None))


def _teams_page(form, status: int = 200):
    own = teams.community_of(current_user)
    chooser = CommunityChoiceForm(request.args)
    communities = teams.communities()
    chooser.set_choices(communities)
    if not (request.args and chooser.validate()):
        chooser.community_id.data = own or (communities[0].id if communities else None)
    community_id = chooser.community_id.data
    page = render_template(
        "board/teams.html",
        chooser=chooser,
        form=form,
        teams=teams.community_teams(current_user, community_id) if community_id else [],
        points=honour.team_points(community_id) if community_id else {},
        mine=teams.current_team(current_user),
        may_act=current_user.has_role(Role.VOLUNTEER) and own is not None and own == community_id,
        action=ActionForm(),
    )
    return page, status


@bp.post("/teams")
@login_required
def create_team():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            teams.create_team(current_user, form.name.data, form.motto.data)
        except Forbidden:
            raise  # no volunteer: 403, like joining
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
                return redirect(url_for("board.team_list"))
        else:
            flash(_("Your team is made, and you are its first member."), "success")
            return redirect(url_for("board.team_list"))
    return _teams_page(form, 422)


def _act(call, done: str):
    """Run a team action; a refusal is flashed, but not being a volunteer is
    403 and a team outside the volunteer's community 404, like any object URL."""
    if ActionForm().validate_on_submit():
        try:
            call()
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(done, "success")
    return redirect(url_for("board.team_list"))


@bp.post("/teams/<int:team_id>/join")
@login_required
def join_team(team_id: int):
    return _act(lambda: teams.join_team(current_user, team_id), _("You have joined the team."))


@bp.post("/teams/leave")
@login_required
def leave_team():
    return _act(lambda: teams.leave_team(current_user), _("You have left the team."))
