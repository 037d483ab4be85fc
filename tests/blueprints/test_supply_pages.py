"""The supply pages through the web: the organisation desk (offers, accepted
matches, volunteers), a community's needs with suggestions, accepting and
declining, the volunteer's invitations; form errors, scope, privacy of the
organisation's views, and query counts that do not grow with the data."""

from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    MatchOutcome,
    MemberStatus,
    OfferStatus,
    PartnerKind,
    PartnerMember,
    Relation,
    Role,
    SupplyMatch,
    SupplyOffer,
    Task,
)
from app.services import bank, supply_decisions, supply_matching, tasks
from app.services.households import MemberData, add_member
from tests.conftest import DEMO
from tests.factories import make_household, make_tree, make_user, user_by_phone
from tests.querycount import count_statements
from tests.services.supply_builders import communities, grid_worker, member, need, offer, org, volunteer
from tests.services.test_households import an_id

PASSWORD = "test-pass-8642"


def login(client, phone, password=DEMO.password):
    """Log in and read the pages in English (the source language), to compare messages."""
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"phone": phone, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.session_transaction() as session:
        session["lang"] = "en"


def text(response) -> str:
    return response.get_data(as_text=True)


def offer_form(**changes) -> dict:
    today = clock.today()
    form = {
        "service_type_code": "housekeeping",
        "capacity": "4",
        "area": "street",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
        "description": "每周上门打扫",
    }
    form.update(changes)
    return form


def the_org(app):
    """(partner id, its user's phone)."""
    with app.app_context():
        partner, user = org()
        return partner.id, user.phone


# --- the organisation desk ---------------------------------------------------------------


def test_the_organisation_publishes_changes_and_closes_an_offer(app, client):
    partner_id, phone = the_org(app)
    login(client, phone, PASSWORD)
    assert client.get("/supply/org").location.endswith(f"/supply/org/{partner_id}")
    page = client.get(f"/supply/org/{partner_id}/offers/new")
    assert page.status_code == 200 and "Publish the offer" in text(page)
    with app.app_context():
        first = communities()[0]
    created = client.post(
        f"/supply/org/{partner_id}/offers/new",
        data=offer_form(area="communities", community_ids=[str(first.id)]),
    )
    assert created.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(SupplyOffer).where(SupplyOffer.partner_id == partner_id))
        offer_id = made.id
        assert (made.capacity, made.whole_street, made.service_type_code) == (4, False, "housekeeping")
    desk = text(client.get(f"/supply/org/{partner_id}"))
    assert "每周上门打扫" in desk and first.name in desk and "0 of 4" in desk
    changed = client.post(f"/supply/org/{partner_id}/offers/{offer_id}", data=offer_form(capacity="6"))
    assert changed.status_code == 302
    closed = client.post(f"/supply/org/{partner_id}/offers/{offer_id}/close", data={"reason": "暂停"})
    assert closed.status_code == 302
    with app.app_context():
        made = db.session.get(SupplyOffer, offer_id)
        assert (made.capacity, made.whole_street, made.status) == (6, True, OfferStatus.WITHDRAWN)


def test_offer_form_errors_are_shown_beside_their_fields(app, client):
    partner_id, phone = the_org(app)
    login(client, phone, PASSWORD)
    response = client.post(f"/supply/org/{partner_id}/offers/new", data=offer_form(capacity="0"))
    assert response.status_code == 422
    assert "Enter a whole number from 1 to 1000." in text(response)
    response = client.post(f"/supply/org/{partner_id}/offers/new", data=offer_form(area="communities"))
    assert response.status_code == 422
    assert "at least one community of the organisation" in text(response)
    response = client.post(f"/supply/org/{partner_id}/offers/new", data=offer_form(valid_until="not a date"))
    assert response.status_code == 422 and "Enter a date." in text(response)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(SupplyOffer.id).where(SupplyOffer.partner_id == partner_id)) is None
        )


def test_a_huge_page_of_matches_is_an_empty_page(app, client):
    """?page=10**20 once overflowed the OFFSET of the matches page (a 500)."""
    partner_id, phone = the_org(app)
    login(client, phone, PASSWORD)
    response = client.get(f"/supply/org/{partner_id}/matches?page={10**20}")
    assert response.status_code == 200


def test_another_organisations_desk_and_offers_answer_404(app, client):
    partner_id, phone = the_org(app)
    other_id, other_phone = the_org(app)
    with app.app_context():
        theirs = offer(user_by_phone(other_phone), db.session.get(bank.Partner, other_id)).id
    login(client, phone, PASSWORD)
    for path in (
        f"/supply/org/{other_id}",
        f"/supply/org/{other_id}/matches",
        f"/supply/org/{other_id}/members",
        f"/supply/org/{other_id}/offers/new",
        f"/supply/org/{other_id}/offers/{theirs}",
        f"/supply/org/{partner_id}/offers/{theirs}",  # their offer under our desk
        "/supply/org/999999",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/supply/org/{partner_id}/offers/{theirs}/close").status_code == 404
    login(client, DEMO.volunteer)
    assert client.get(f"/supply/org/{partner_id}").status_code == 403
    login(client, DEMO.street_officer)  # on the organisation's behalf
    assert client.get(f"/supply/org/{partner_id}").status_code == 200
    assert client.get("/supply/offers").status_code == 200


def test_the_organisation_invites_and_the_volunteer_accepts_on_their_page(app, client):
    partner_id, phone = the_org(app)
    with app.app_context():
        someone = volunteer()
        someone_phone, someone_id = someone.phone, someone.id
    login(client, phone, PASSWORD)
    refused = client.post(f"/supply/org/{partner_id}/members", data={"phone": "13999999998"})
    assert refused.status_code == 422 and "No volunteer has registered with this mobile number." in text(
        refused
    )
    assert client.post(f"/supply/org/{partner_id}/members", data={"phone": someone_phone}).status_code == 302
    members_page = text(client.get(f"/supply/org/{partner_id}/members"))
    assert someone_phone[-4:] in members_page and someone_phone not in members_page  # masked until accepted

    login(client, someone_phone, PASSWORD)
    mine = text(client.get("/me/organisations"))
    assert "Accept the invitation" in mine
    with app.app_context():
        member_id = db.session.scalar(sa.select(PartnerMember.id).where(PartnerMember.user_id == someone_id))
    assert client.post(f"/me/organisations/{member_id}/accept").status_code == 302
    with app.app_context():
        assert db.session.get(PartnerMember, member_id).status is MemberStatus.ACTIVE
    login(client, DEMO.volunteer)
    assert client.post(f"/me/organisations/{member_id}/leave").status_code == 404  # not hers
    with app.app_context():
        assert db.session.get(PartnerMember, member_id).status is MemberStatus.ACTIVE


# --- staff: needs and supply ----------------------------------------------------------------


def scene(app):
    """A need in grid 1 with a sensitive household, an organisation with an offer; ids and secrets."""
    with app.app_context():
        worker = grid_worker()
        household = make_household(worker, building="保密楼", head_name="欧阳秘密", today=clock.today())
        id_number = an_id(7)
        add_member(
            worker, household.id, MemberData("司马隐私", Relation.SPOUSE, id_number=id_number), clock.today()
        )
        wanted = need(worker, household=household, text="欧阳秘密 癌症晚期 月收入300元")
        partner, user = org()
        made = offer(user, partner, capacity=2)
        return {
            "need": wanted.id,
            "offer": made.id,
            "partner": partner.id,
            "partner_phone": user.phone,
            "secrets": [
                "欧阳秘密",
                "司马隐私",
                "保密楼",
                household.address,
                household.contact_phone,
                id_number,
                f"{id_number[:6]}********{id_number[-4:]}",
                "癌症",
                "300元",
            ],
        }


def test_the_community_page_suggests_the_offer_with_its_reasons(app, client):
    s = scene(app)
    with app.app_context():
        first = communities()[0]
        _c, _p, cards = supply_matching.community_needs(grid_worker(), first.id, per_page=1000)
        position = [c.need.id for c in cards].index(s["need"])  # the demo's needs come first
    login(client, DEMO.grid_worker)
    assert client.get("/supply/communities").location.endswith(f"/supply/communities/{first.id}")
    page = text(client.get(f"/supply/communities/{first.id}?page={position // supply_matching.PER_PAGE + 1}"))
    assert f'id="need-{s["need"]}"' in page
    assert f"/supply/needs/{s['need']}/offers/{s['offer']}" in page
    assert "Same service · Covers the whole street · 2 of 2 left · Valid until" in page


def test_staff_scope_on_the_community_and_match_pages(app, client):
    s = scene(app)
    with app.app_context():
        first, second = communities()
    login(client, DEMO.community_worker_2)
    assert client.get(f"/supply/communities/{first.id}").status_code == 404
    assert client.get(f"/supply/needs/{s['need']}/offers/{s['offer']}").status_code == 404
    assert client.post(f"/supply/needs/{s['need']}/offers/{s['offer']}/accept", data={}).status_code == 404
    assert client.post(f"/supply/needs/{s['need']}/offers/{s['offer']}/decline", data={}).status_code == 404
    login(client, DEMO.grid_worker_2)  # same community, another grid
    assert client.get(f"/supply/communities/{first.id}").status_code == 200
    assert client.get(f"/supply/needs/{s['need']}/offers/{s['offer']}").status_code == 404
    login(client, DEMO.volunteer)
    assert client.get(f"/supply/communities/{first.id}").status_code == 403
    login(client, s["partner_phone"], PASSWORD)
    assert client.get(f"/supply/communities/{first.id}").status_code == 403
    assert client.get(f"/supply/needs/{s['need']}/offers/{s['offer']}").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(SupplyMatch.id).where(SupplyMatch.need_id == s["need"])) is None


def test_accept_and_decline_form_errors(app, client):
    s = scene(app)
    login(client, DEMO.grid_worker)
    path = f"/supply/needs/{s['need']}/offers/{s['offer']}"
    form_page = text(client.get(path))
    assert "Housekeeping · Normal" in form_page  # the default description for the organisation
    missing_day = client.post(path + "/accept", data={"outcome": "task", "org_description": "打扫厨房"})
    assert missing_day.status_code == 422 and "Enter a date." in text(missing_day)
    outside = (clock.today() + timedelta(days=60)).isoformat()
    late = client.post(
        path + "/accept",
        data={
            "outcome": "task",
            "org_description": "打扫",
            "day": outside,
            "starts_at": "09:00",
            "ends_at": "10:00",
        },
    )
    assert late.status_code == 422 and "Choose a day in the offer&#39;s period" in text(late)
    no_reason = client.post(path + "/decline", data={"reason": ""})
    assert no_reason.status_code == 422 and "Give the reason." in text(no_reason)
    with app.app_context():
        assert db.session.get(SupplyOffer, s["offer"]).used == 0
        assert db.session.scalar(sa.select(SupplyMatch.id).where(SupplyMatch.need_id == s["need"])) is None


def test_accepting_as_a_task_and_what_the_organisation_and_its_volunteers_see(app, client):
    s = scene(app)
    login(client, DEMO.grid_worker)
    day = (clock.today() + timedelta(days=3)).isoformat()
    accepted = client.post(
        f"/supply/needs/{s['need']}/offers/{s['offer']}/accept",
        data={
            "outcome": "task",
            "org_description": "独居老人，需要每周打扫厨房",
            "day": day,
            "starts_at": "09:00",
            "ends_at": "11:00",
        },
    )
    assert accepted.status_code == 302 and f"#need-{s['need']}" in accepted.location
    with app.app_context():
        match = db.session.scalar(sa.select(SupplyMatch).where(SupplyMatch.need_id == s["need"]))
        task_id = match.task_id
        partner = db.session.get(bank.Partner, s["partner"])
        insider = volunteer()
        member(partner, user_by_phone(s["partner_phone"]), insider)
        insider_phone = insider.phone

    login(client, s["partner_phone"], PASSWORD)
    for path in (
        f"/supply/org/{s['partner']}",
        f"/supply/org/{s['partner']}/matches",
        f"/supply/org/{s['partner']}/members",
    ):
        html = text(client.get(path))
        for secret in s["secrets"]:
            assert secret not in html, (path, secret)
    matches = text(client.get(f"/supply/org/{s['partner']}/matches"))
    assert "独居老人，需要每周打扫厨房" in matches and "Housekeeping" in matches
    with app.app_context():
        assert communities()[0].name in matches

    # The organisation's volunteer: the task on the board, no address until claimed.
    login(client, insider_phone, PASSWORD)
    assert f"/tasks/{task_id}" in text(client.get("/tasks/"))
    before = text(client.get(f"/tasks/{task_id}"))
    assert "保密楼" not in before
    assert client.post(f"/tasks/{task_id}/claim").status_code == 302
    assert "保密楼" in text(client.get(f"/tasks/{task_id}"))
    # Anyone else is refused with the reason.
    login(client, DEMO.volunteer_2)
    refused = client.post(f"/tasks/{task_id}/claim", follow_redirects=True)
    assert "Only the volunteers of the organisation that offered this service" in text(refused)


def test_the_api_refuses_a_non_member_with_its_code(app, client, api_token):
    s = scene(app)
    with app.app_context():
        starts = clock.now() + timedelta(days=2)
        data = supply_decisions.AcceptData(MatchOutcome.TASK, "打扫", starts, starts + timedelta(hours=1))
        task_id = supply_decisions.accept_match(grid_worker(), s["need"], s["offer"], data).task_id
    response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=api_token(DEMO.volunteer))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "partner_volunteers_only"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "partner_volunteers_only" in str(spec["paths"]["/api/v1/tasks/{task_id}/claim"])


# --- query counts ---------------------------------------------------------------------------


def test_the_community_page_takes_the_same_number_of_queries_at_two_sizes(app, client):
    with app.app_context():
        tree = make_tree("计数")
        community_id = tree["community"].id
        grids = [g.id for g in tree["grids"]]
        officer = make_user(Role.STREET_OFFICER, street_id=tree["street"].id)
        worker = make_user(Role.COMMUNITY_WORKER, community_id=community_id)
        partner = bank.create_partner(
            officer, bank.PartnerData(name="计数社工站", kind=PartnerKind.SOCIAL_WORK)
        )
        worker_phone, officer_phone, partner_id = worker.phone, officer.phone, partner.id

    def grow(needs: int, offers: int, volunteers: int, with_tasks: int):
        with app.app_context():
            actor = user_by_phone(worker_phone)
            made = []
            for i in range(needs):
                household = make_household(actor, grid_id=grids[i % 2], building="计数楼")
                made.append(need(actor, household=household, service=("housekeeping", "meals")[i % 2]))
            for i in range(offers):
                partner = db.session.get(bank.Partner, partner_id)
                offer(user_by_phone(officer_phone), partner, service=("housekeeping", "meals")[i % 2])
            people = [
                volunteer(grid_id=grids[i % 2], skills=("housekeeping", "meals")) for i in range(volunteers)
            ]
            for i, wanted in enumerate(made[:with_tasks]):
                starts = clock.now() + timedelta(days=2 + i)
                task = tasks.create_task(
                    actor,
                    tasks.TaskData(
                        wanted.household_id,
                        wanted.service_type_code,
                        starts,
                        starts + timedelta(hours=1),
                        "上门",
                        need_id=wanted.id,
                    ),
                )
                if people:
                    tasks.claim_task(people[i % len(people)], task.id)

    grow(needs=2, offers=2, volunteers=2, with_tasks=1)
    login(client, worker_phone, PASSWORD)
    with count_statements(app) as small:
        assert client.get(f"/supply/communities/{community_id}").status_code == 200
    grow(needs=8, offers=6, volunteers=8, with_tasks=4)
    with count_statements(app) as large:
        page = client.get(f"/supply/communities/{community_id}")
    assert page.status_code == 200 and text(page).count('class="card" id="need-') == 10
    assert len(small) == len(large), "\n".join(large)


def test_the_organisations_matches_page_takes_the_same_number_of_queries_at_two_sizes(app, client):
    partner_id, phone = the_org(app)

    def accept(count: int):
        with app.app_context():
            partner = db.session.get(bank.Partner, partner_id)
            made = offer(user_by_phone(phone), partner, capacity=count)
            for i in range(count):
                wanted = need()
                outcome = (MatchOutcome.MEASURE, MatchOutcome.TASK)[i % 2]
                starts = clock.now() + timedelta(days=2 + i)
                data = supply_decisions.AcceptData(outcome, "打扫", starts, starts + timedelta(hours=1))
                supply_decisions.accept_match(grid_worker(), wanted.id, made.id, data)

    login(client, phone, PASSWORD)
    accept(1)
    with count_statements(app) as small:
        assert client.get(f"/supply/org/{partner_id}/matches").status_code == 200
        assert client.get(f"/supply/org/{partner_id}").status_code == 200
    accept(6)
    with count_statements(app) as large:
        assert text(client.get(f"/supply/org/{partner_id}/matches")).count("<li>") >= 7
        assert client.get(f"/supply/org/{partner_id}").status_code == 200
    assert len(small) == len(large), "\n".join(large)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Task).where(Task.partner_id == partner_id)
            )
            == 3
        )
