"""The objects every object URL of the authorization matrix needs, made
through the real services by the people who own them.

Everything lies in the demo's grid 1 (阳光社区 第一网格, community 1): its
grid worker, community worker and street officer own it, the demo volunteer
holds its claims and voucher, and the demo partner's shop its offers. The
outsiders of the matrix are the grid worker of grid 2 (same community,
another grid) and the community worker of community 2 (same street, another
community), as the demo data places them (app/services/demo.py).

Every text of the world carries MARKER, so a refused answer can be searched
for it; the texts of the household's record (its householder, address,
members, category note, need and help request) carry PRIVATE as well. Call `build_world()` inside an app context and a
test request context (confirmation links are absolute URLs); it commits.
"""

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Category,
    Community,
    Grid,
    Member,
    Partner,
    PartnerMember,
    Relation,
    SupplyOffer,
    Team,
    Urgency,
)
from app.services import (
    bank,
    calendar_feed,
    casework,
    help_requests,
    households,
    proxy_confirmations,
    public_notice,
    public_notice_objections,
    stock,
    supply_members,
    tasks,
    visits,
    vouchers,
)
from app.services.demo_bank import PARTNER_NAME
from app.services.demo_tasks import clock_at
from app.services.demo_teams import DEMO_TEAM
from app.services.privacy import mask_name
from tests.conftest import DEMO
from tests.factories import make_household, user_by_phone

MARKER = "矩阵"  # in every text of the world
PRIVATE = f"{MARKER}密档"  # in every text of the household's record
HEAD_NAME = f"{PRIVATE}户主"
BUILDING = f"{PRIVATE}楼"


class World(SimpleNamespace):
    """What build_world made: ids by name, tokens, and the texts to keep secret."""

    def private_texts(self) -> list[str]:
        """Texts of the household's record: only its staff (and, on that task's page,
        a volunteer holding a place on one of its tasks) may see them."""
        return [PRIVATE, self.household_phone]

    def world_texts(self) -> list[str]:
        """Texts that identify any of the world's objects: a refused answer shows none."""
        return [MARKER, mask_name(HEAD_NAME), self.household_phone]


def _local(day_offset: int, hour: int) -> datetime:
    """Beijing wall-clock `hour` o'clock, `day_offset` days from today, as aware UTC."""
    day = clock.today() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), clock.LOCAL_TZ).astimezone(UTC)


def _task(worker, household_id, service, starts, slots=1, need_id=None, hours=2):
    data = tasks.TaskData(
        household_id=household_id,
        service_type_code=service,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        description=f"{MARKER}任务 {service}",
        slots=slots,
        need_id=need_id,
    )
    return tasks.create_task(worker, data)


def _visited(worker, volunteer, household_id, token, starts):
    """A task in the past, claimed by `volunteer`, checked in and out: awaiting confirmation."""
    with clock_at(starts - timedelta(days=1)):
        task = _task(worker, household_id, "visiting", starts)
        tasks.claim_task(volunteer, task.id)
    with clock_at(starts + timedelta(minutes=5)):
        visits.check_in(volunteer, task.id, token)
    with clock_at(starts + timedelta(minutes=80)):
        claim = visits.check_out(volunteer, task.id, token)
    return task, claim


def build_world() -> World:
    w = World()
    p = SimpleNamespace(
        **{name: user_by_phone(phone) for name, phone in vars(DEMO).items() if name != "password"}
    )
    w.user_volunteer, w.user_partner = p.volunteer.id, p.partner.id
    w.grid = p.grid_worker.grid_id
    w.community = db.session.scalar(sa.select(Grid.community_id).where(Grid.id == w.grid))
    assert p.grid_worker_2.grid_id != w.grid, "the demo's second grid worker must be of another grid"
    assert p.community_worker.community_id == w.community != p.community_worker_2.community_id
    assert (
        db.session.get(Community, p.community_worker_2.community_id).street_id == p.street_officer.street_id
    )

    _registry(w, p)
    _tasks_and_visits(w, p)
    _bank(w, p)
    _supply(w, p)
    _notice(w, p)
    w.team = db.session.scalar(
        sa.select(Team.id).where(Team.name == DEMO_TEAM, Team.community_id == w.community)
    )
    w.calendar_token = calendar_feed.enable_feed(p.volunteer)
    db.session.commit()
    return w


def _registry(w: World, p) -> None:
    """A household of grid 1 with a member, a proposed category, a need, a help request, a proxy."""
    w.household_phone = "13977770001"
    household = make_household(
        p.grid_worker, head_name=HEAD_NAME, building=BUILDING, room="9901", contact_phone=w.household_phone
    )
    w.household = household.id
    today = clock.today()
    member = households.add_member(
        p.grid_worker,
        household.id,
        households.MemberData(name=f"{PRIVATE}成员", relation=Relation.SPOUSE),
        today,
    )
    w.member = member.id
    w.head_member = db.session.scalar(
        sa.select(Member.id).where(Member.household_id == household.id, Member.name == HEAD_NAME)
    )
    w.assignment = casework.propose_category(p.grid_worker, household.id, Category.DIBAO, f"{PRIVATE}提议").id
    need = casework.add_need(
        p.grid_worker, household.id, casework.NeedData("errands", f"{PRIVATE}需求代购", Urgency.NORMAL)
    )
    w.need = need.id
    w.help_request = help_requests.submit_help_request(
        w.grid, f"{PRIVATE}求助人", "13977770002", f"{PRIVATE}路1号", f"{PRIVATE}求助内容"
    ).id
    w.proxy = proxy_confirmations.link_proxy(p.grid_worker, household.id, DEMO.resident, "女儿").id
    card = visits.issue_door_card(p.grid_worker, household.id)
    w.door_token = visits.door_token(card)


def _tasks_and_visits(w: World, p) -> None:
    """Tasks in the states the routes act on, all on the world's household.

    open: two places, nobody on it; full: volunteer 2 holds its one place and
    the volunteer waits; claimed: the volunteer's, later this week;
    awaiting: the volunteer's visit yesterday, not yet confirmed (with a live
    confirmation link); done: the volunteer's visit two days ago, confirmed
    by the resident's link, so the volunteer has points.
    """
    worker, volunteer = p.grid_worker, p.volunteer
    w.task_open = _task(worker, w.household, "housekeeping", _local(3, 9), slots=2).id
    full = _task(worker, w.household, "repairs", _local(3, 14))
    tasks.claim_task(p.volunteer_2, full.id)
    tasks.join_waitlist(volunteer, full.id)
    w.task_full = full.id
    claimed = _task(worker, w.household, "visiting", _local(4, 9))
    w.claim_claimed = tasks.claim_task(volunteer, claimed.id).id
    w.task_claimed = claimed.id

    done, claim = _visited(worker, volunteer, w.household, w.door_token, _local(-2, 9))
    with clock_at(_local(-2, 11)):
        url, _expires = visits.confirmation_link(volunteer, done.id)
        visits.confirm_visit(urlsplit(url).path.removeprefix("/c/"), 5, "")
    w.task_done, w.claim_done = done.id, claim.id

    awaiting, claim = _visited(worker, volunteer, w.household, w.door_token, _local(-1, 14))
    w.task_awaiting, w.claim_awaiting = awaiting.id, claim.id
    url, _expires = visits.confirmation_link(volunteer, awaiting.id)  # live for 30 minutes from now
    w.confirm_token = urlsplit(url).path.removeprefix("/c/")


def _bank(w: World, p) -> None:
    """The demo shop (a partner of the street), a reward of community 1 with stock, the volunteer's voucher."""
    shop = db.session.scalar(sa.select(Partner).where(Partner.name == PARTNER_NAME))
    w.partner = shop.id
    reward = bank.create_reward(
        p.community_worker,
        shop.id,
        bank.RewardData(
            name=f"{MARKER}礼品", point_price=1, valid_from=clock.today(), community_id=w.community
        ),
    )
    stock.receive_stock(p.community_worker, reward.id, 5, "到货")
    w.reward = reward.id
    voucher = vouchers.redeem(p.volunteer, reward.id)
    w.voucher = voucher.id
    w.voucher_token = vouchers.voucher_token(voucher)


def _supply(w: World, p) -> None:
    """The shop's errands offer (it matches the world's need) and its invitation to the volunteer."""
    w.offer = db.session.scalar(
        sa.select(SupplyOffer.id).where(
            SupplyOffer.partner_id == w.partner, SupplyOffer.service_type_code == "errands"
        )
    )
    w.partner_member = supply_members.invite(p.partner, w.partner, DEMO.volunteer).id
    w.partner_member_user = db.session.scalar(
        sa.select(PartnerMember.user_id).where(
            PartnerMember.partner_id == w.partner, PartnerMember.user_id != p.volunteer.id
        )
    )


def _notice(w: World, p) -> None:
    """A notice of community 1 over the demo's past visits, shown now, with a resident's objection."""
    today = clock.today()
    data = public_notice.NoticeData(w.community, f"{MARKER}公示", today - timedelta(days=120), today)
    notice = public_notice.create_notice(p.community_worker, data, today)
    notice = public_notice.get_notice(p.community_worker, notice.id)  # its items loaded
    refs = {row.row.ref: "" for row in public_notice.choice_rows(notice)}
    public_notice.choose_items(p.community_worker, notice.id, refs)
    public_notice.publish_notice(p.community_worker, notice.id, None, None)
    w.notice = notice.id
    w.objection = public_notice_objections.submit_objection(w.community, notice.id, f"{MARKER}异议").id
