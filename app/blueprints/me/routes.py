"""The notification centre, its settings, and the calendar feed."""

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth_scope import role_required
from app.blueprints.me import bp, feed_bp
from app.blueprints.me.forms import ActionForm, preferences_form
from app.extensions import db
from app.models import Role
from app.services import calendar_feed, notifications

# Where a notification's task opens, by who reads it: the first endpoint that exists.
TASK_ENDPOINTS = {"volunteer": ("volunteer.task",), "staff": ("tasks_staff.task", "matching.task")}


def _actor():
    return current_user._get_current_object()


def task_link(user, task_id: int | None) -> str | None:
    """The page of a notification's task for this reader, if such a page exists yet."""
    if task_id is None:
        return None
    endpoints = TASK_ENDPOINTS["staff" if user.is_staff else "volunteer"]
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, task_id=task_id)
    return None


@bp.get("/notifications")
@login_required
def notification_list():
    page = db.paginate(notifications.notifications_stmt(_actor()), per_page=20)
    items = [
        (n, text, task_link(_actor(), n.task_id), notifications.local_time(n.created_at))
        for n, text in notifications.render_page(page.items)
    ]
    return render_template("me/notifications.html", page=page, items=items, form=ActionForm())


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark the given notifications (`id` fields) read, or all of them if none are given."""
    if ActionForm().validate_on_submit():
        ids = [int(i) for i in request.form.getlist("id") if i.isdigit() and len(i) < 10]
        if ids:
            notifications.mark_read(_actor(), ids)
        else:
            notifications.mark_all_read(_actor())
    return redirect(url_for("me.notification_list"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def notification_settings():
    kinds = notifications.kinds_for(_actor())
    form = preferences_form(kinds, notifications.preferences(_actor()))
    if form.validate_on_submit():
        notifications.set_preferences(_actor(), {kind: form[kind.value].data for kind in kinds})
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("me.notification_settings"))
    return render_template("me/settings.html", form=form)


@bp.get("/calendar")
@role_required(Role.VOLUNTEER)
def calendar():
    token = _actor().calendar_token
    url = url_for("calendar.feed", token=token, _external=True) if token else None
    return render_template("me/calendar.html", url=url, form=ActionForm())


@bp.post("/calendar/enable")
@role_required(Role.VOLUNTEER)
def calendar_enable():
    if ActionForm().validate_on_submit():
        calendar_feed.enable_feed(_actor())
        flash(_("Your calendar feed is on. Add its address to your calendar app."), "success")
    return redirect(url_for("me.calendar"))


@bp.post("/calendar/disable")
@role_required(Role.VOLUNTEER)
def calendar_disable():
    if ActionForm().validate_on_submit():
        calendar_feed.disable_feed(_actor())
        flash(_("Your calendar feed is off. Its old address no longer works."), "success")
    return redirect(url_for("me.calendar"))


@feed_bp.get("/calendar/<token>.ics")
def feed(token: str):
    """The public feed; an unknown token answers 404 (a NotFound from the service)."""
    body = calendar_feed.feed_for_token(token)
    return Response(
        body,
        content_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
