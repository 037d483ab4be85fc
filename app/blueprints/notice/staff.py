"""Staff pages of public notices (公示): list, compose, choose entries, publish,
withdraw, answer objections. Thin views over app/services/public_notice*.py;
a notice outside the user's scope answers 404 through the services."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.auth_scope import role_required
from app.blueprints.forms import attach_error
from app.blueprints.notice import bp
from app.blueprints.notice.forms import HandleForm, ItemsForm, NoticeForm, PublishForm, WithdrawForm
from app.extensions import db
from app.services import public_notice
from app.services import public_notice_objections as objections
from app.services.errors import DomainError, NotFound
from app.services.public_notice import NOTICE_DAYS, NOTICE_STAFF, WordingErrors
from app.services.public_notice_display import STATES, local_datetime, rows_of, state_of


def _actor():
    return current_user._get_current_object()


def _to_notice(notice_id: int, section: str | None = None):
    return redirect(url_for("notice.detail", notice_id=notice_id, _anchor=section))


def _refused(form, error: DomainError) -> None:
    if not attach_error(form, error):
        flash(str(error.message), "error")


@bp.get("/staff/notices/")
@role_required(*NOTICE_STAFF)
def index():
    page = db.paginate(public_notice.notices_stmt(_actor()), per_page=30)
    now = clock.now()
    return render_template(
        "notice/index.html",
        page=page,
        open_objections=objections.open_counts(n.id for n in page.items),
        states={n.id: state_of(n, now) for n in page.items},
        labels=STATES,
    )


@bp.route("/staff/notices/new", methods=["GET", "POST"])
@role_required(*NOTICE_STAFF)
def new():
    form = NoticeForm()
    form.set_choices(public_notice.notice_communities(_actor()))
    if not form.is_submitted():
        start, end = public_notice.default_period(clock.today())
        form.period_start.data, form.period_end.data = start, end
        form.title.data = _("Assistance notice %(year)d/%(month)d", year=start.year, month=start.month)
    if form.validate_on_submit():
        try:
            notice = public_notice.create_notice(_actor(), form.notice_data(), clock.today())
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("The notice is started: choose its entries."), "success")
            return _to_notice(notice.id)
    return render_template("notice/new.html", form=form)


@bp.get("/staff/notices/<int:notice_id>")
@role_required(*NOTICE_STAFF)
def detail(notice_id: int):
    return _detail(notice_id)


def _detail(notice_id: int, *, items_form=None, publish_form=None, withdraw_form=None, handle=None):
    """The notice's page; forms passed in keep what was typed and their errors."""
    notice = public_notice.get_notice(_actor(), notice_id)
    now = clock.now()
    editable = notice.is_editable(now)
    choices = public_notice.choice_rows(notice) if editable else []
    listed = objections.objections_of(notice.id)
    handle_forms = {o.id: HandleForm(prefix=f"o{o.id}", formdata=None) for o in listed}
    if handle is not None:
        handle_forms[handle[0]] = handle[1]
    return render_template(
        "notice/detail.html",
        notice=notice,
        state=state_of(notice, now),
        labels=STATES,
        editable=editable,
        choices={c.row.ref: c for c in choices},
        items_form=items_form or ItemsForm.for_rows(choices),
        rows=[] if editable else rows_of(notice),
        publish_form=publish_form or PublishForm(formdata=None),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        objections=listed,
        handle_forms=handle_forms,
        local_datetime=local_datetime,
        notice_days=NOTICE_DAYS,
    )


@bp.post("/staff/notices/<int:notice_id>/items")
@role_required(*NOTICE_STAFF)
def save_items(notice_id: int):
    public_notice.get_notice(_actor(), notice_id)  # 404 before reading the form
    form = ItemsForm()
    if form.validate_on_submit():
        try:
            public_notice.choose_items(_actor(), notice_id, form.chosen())
        except NotFound:
            raise
        except WordingErrors as error:
            for entry in form.items:
                if entry.ref.data in error.by_ref:
                    entry.wording.errors = [*entry.wording.errors, str(error.by_ref[entry.ref.data])]
            flash(str(error.message), "error")
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(_("The entries have been saved."), "success")
            return _to_notice(notice_id, "publish")
    return _detail(notice_id, items_form=form), 422


@bp.post("/staff/notices/<int:notice_id>/publish")
@role_required(*NOTICE_STAFF)
def publish(notice_id: int):
    public_notice.get_notice(_actor(), notice_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            public_notice.publish_notice(_actor(), notice_id, form.publish_at(), form.until())
        except NotFound:
            raise
        except DomainError as error:
            if error.field in ("publish_at", "until"):
                target = form.day if error.field == "publish_at" else form.until_day
                target.errors = [*target.errors, str(error.message)]
            else:
                flash(str(error.message), "error")
        else:
            flash(_("The notice is published."), "success")
            return _to_notice(notice_id)
    return _detail(notice_id, publish_form=form), 422


@bp.post("/staff/notices/<int:notice_id>/withdraw")
@role_required(*NOTICE_STAFF)
def withdraw(notice_id: int):
    public_notice.get_notice(_actor(), notice_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            public_notice.withdraw_notice(_actor(), notice_id, form.reason.data)
        except NotFound:
            raise
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("The notice is withdrawn: it is no longer shown."), "success")
            return _to_notice(notice_id)
    return _detail(notice_id, withdraw_form=form), 422


@bp.post("/staff/notices/<int:notice_id>/objections/<int:objection_id>")
@role_required(*NOTICE_STAFF)
def handle_objection(notice_id: int, objection_id: int):
    public_notice.get_notice(_actor(), notice_id)
    form = HandleForm(prefix=f"o{objection_id}")
    if form.validate_on_submit():
        try:
            objections.handle_objection(_actor(), notice_id, objection_id, form.note.data)
        except NotFound:
            raise
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("The objection is marked as answered."), "success")
            return _to_notice(notice_id, "objections")
    return _detail(notice_id, handle=(objection_id, form)), 422
