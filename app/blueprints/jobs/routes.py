"""Periodic jobs page (administrators): what runs when, and how the last runs went."""

from flask import render_template
from flask_babel import lazy_gettext as _l

from app import jobs
from app.auth_scope import role_required
from app.blueprints.jobs import bp
from app.models import JobOutcome, Role
from app.services.notifications import local_time

OUTCOMES = {
    JobOutcome.RUNNING: (_l("Running"), "muted"),
    JobOutcome.OK: (_l("Done"), "ok"),
    JobOutcome.FAILED: (_l("Failed"), "warn"),
}


@bp.get("")
@role_required(Role.ADMIN)
def index():
    return render_template(
        "jobs/index.html",
        statuses=jobs.job_statuses(),
        runs=jobs.recent_runs(),
        outcomes=OUTCOMES,
        titles={job.name: job.title for job in jobs.JOBS.values()},
        FAILED=JobOutcome.FAILED,
        local_time=local_time,
    )
