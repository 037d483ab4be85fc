"""Account pages: thin views over app/services/accounts.py."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import LoginForm, PasswordForm, ProfileForm, RegisterForm
from app.blueprints.forms import attach_error
from app.blueprints.public.routes import _same_site
from app.extensions import limiter
from app.services import accounts
from app.services.accounts import LOGIN_LIMIT, REGISTER_LIMIT
from app.services.catalogue import list_skills
from app.services.errors import DomainError
from app.services.org import grid_choices


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.phone.data, form.password.data)
        except DomainError as error:
            form.password.errors.append(str(error.message))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_same_site(request.args.get("next")) or url_for("public.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = RegisterForm()
    form.set_choices(grid_choices(), list_skills())
    if form.validate_on_submit():
        profile = accounts.VolunteerProfile(
            name=form.name.data,
            grid_id=form.grid_id.data,
            skills=form.skills.data,
            free_times=form.free_times.data,
        )
        try:
            user = accounts.register_volunteer(profile, form.phone.data, form.password.data)
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            login_user(user)
            flash(_("Welcome! You are registered as a volunteer."), "success")
            return redirect(url_for("public.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = accounts.load_profile(current_user.id)
    form = ProfileForm(obj=user)
    form.set_choices(grid_choices(), list_skills())
    volunteer = accounts.edits_own_grid(user)
    if not volunteer:
        del form.grid_id, form.skills, form.free_times
    if request.method == "GET" and volunteer:
        form.skills.data = [s.code for s in user.skills]
        form.free_times.data = [ft.slot.value for ft in user.free_times]
    if form.validate_on_submit():
        try:
            if volunteer:
                profile = accounts.VolunteerProfile(
                    name=form.name.data,
                    grid_id=form.grid_id.data,
                    skills=form.skills.data,
                    free_times=form.free_times.data,
                )
                accounts.update_volunteer_profile(user, profile, form.show_full_name.data)
            else:
                accounts.update_name(user, form.name.data, form.show_full_name.data)
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, user=user)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                current_user._get_current_object(), form.current_password.data, form.new_password.data
            )
        except DomainError as error:
            if not attach_error(form, error):
                flash(str(error.message), "error")
        else:
            login_user(user)  # this session carries the new epoch; all others end
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form)
