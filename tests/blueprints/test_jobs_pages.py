"""The administrator's periodic-jobs page (/staff/jobs): the jobs with their schedules,
last runs and errors, the recent runs, and who may see it."""

from datetime import UTC, datetime, timedelta

import pytest

from app import clock, jobs
from app.jobs import Job
from tests.conftest import DEMO

MONDAY = datetime(2026, 11, 23, 2, 12, tzinfo=UTC)  # 10:12 in Beijing


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


def login(client, phone, lang="en"):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": DEMO.password})
    assert response.status_code == 302
    client.post(f"/lang/{lang}")


def run_all(app, fail: str | None = None) -> None:
    """Run every real job name once at MONDAY with stand-in functions; `fail` raises."""

    def works(now):
        return "2 things done"

    def breaks(now):
        raise RuntimeError("database went away")

    stand_ins = jobs.registry(
        *(Job(name, breaks if name == fail else works, job.schedule) for name, job in jobs.JOBS.items())
    )
    with app.app_context():
        for name in stand_ins:
            jobs.run_job(name, MONDAY, stand_ins)


def row(html: str, job: str) -> str:
    start = html.index(f'id="job-{job}"')
    return html[start : html.index("</tr>", start)]


def test_admin_sees_every_job_with_its_schedule_and_a_late_warning(client):
    clock.freeze(MONDAY)
    login(client, DEMO.admin)
    response = client.get("/staff/jobs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in jobs.JOBS:
        assert f'id="job-{name}"' in html and "Never" in row(html, name)
    assert "Every 10 minutes" in row(html, "release_no_shows")
    assert "Every Monday at 08:00" in row(html, "remind_reviews")
    assert "On day 1 of every month at 00:10" in row(html, "freeze_honour_rolls")
    assert "2026-11-30 08:00" in row(html, "remind_reviews")  # next due, Beijing time
    assert 'id="late-warning"' in html  # nothing has ever run: is the scheduler running?
    assert "No job has run yet." in html


def test_last_runs_their_outcome_summary_and_error(app, client):
    clock.freeze(MONDAY)
    run_all(app, fail="remind_reviews")
    clock.freeze(MONDAY + timedelta(minutes=3))
    login(client, DEMO.admin)
    html = client.get("/staff/jobs").get_data(as_text=True)
    assert 'id="late-warning"' not in html
    ok = row(html, "remind_claimants")
    assert "2026-11-23 10:12" in ok and "(2026-11-23T10:10)" in ok
    assert "Done" in ok and "2 things done" in ok and "Error" not in ok
    failed = row(html, "remind_reviews")
    assert "(2026-W48)" in failed and "Failed" in failed
    assert "RuntimeError: database went away" in failed
    recent = html[html.index('id="runs"') :]
    assert recent.count("<tr>") == len(jobs.JOBS) + 1  # the header and one per run
    assert "Remind grid workers of reviews due" in recent and "RuntimeError: database went away" in recent


@pytest.mark.parametrize(
    "phone", [DEMO.street_officer, DEMO.community_worker, DEMO.grid_worker, DEMO.volunteer, DEMO.partner]
)
def test_everyone_but_the_administrator_is_refused(client, phone):
    login(client, phone)
    assert client.get("/staff/jobs").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/staff/jobs")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
