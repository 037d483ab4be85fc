"""A small world for the dashboard tests, made through the real services with
the clock set: two streets, three communities, four grids; households that
enter, exit and re-enter; categories approved and revoked; needs opened, met
and closed; tasks claimed, given back and visited, visits confirmed by the
resident's QR link (which pays them), one reversed through
points.reverse_visit, one never confirmed; a team joined and left;
a donation, a redemption and its refund; reviews.

Several things happen on either side of local midnight between 31 March and
1 April 2031 (16:00 UTC on 31 March), so the period edges are tested by the
brute force too. Call `build_world()` inside an app context and a test
request context (confirmation links are absolute URLs).
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from app import clock
from app.models import (
    ApprovalAction,
    Category,
    NeedStatus,
    PartnerKind,
    Relation,
    ReviewOutcome,
    Role,
    Urgency,
)
from app.services import (
    bank,
    casework,
    donations,
    household_changes,
    households,
    points,
    stock,
    tasks,
    teams,
    visits,
    vouchers,
)
from tests.factories import make_household, make_tree, make_user

PASSWORD = "test-pass-8642"
TODAY = date(2031, 5, 10)  # "now" for the snapshot figures (warnings)


def local(y, m, d, h=0, mi=0, s=0) -> datetime:
    """An Asia/Shanghai wall-clock time as aware UTC."""
    return datetime(y, m, d, h, mi, s, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def at(moment: datetime, call, *args, **kwargs):
    """Run a service call with the clock at `moment`."""
    clock.freeze(moment)
    try:
        return call(*args, **kwargs)
    finally:
        clock.freeze(None)


def _day(moment: datetime) -> date:
    return moment.astimezone(clock.LOCAL_TZ).date()


class World(SimpleNamespace):
    """What build_world made, by name."""


def build_world(db) -> World:
    w = World()
    s = make_tree("看板甲")
    w.street_s, w.community_a = s["street"], s["community"]
    w.grid_a1, w.grid_a2 = s["grids"]
    from app.models import Community, Grid

    w.community_b = Community(street_id=w.street_s.id, name="看板乙社区")
    db.session.add(w.community_b)
    db.session.flush()
    w.grid_b1 = Grid(community_id=w.community_b.id, name="看板乙网格")
    db.session.add(w.grid_b1)
    t = make_tree("看板丙")
    w.street_t, w.community_c, w.grid_c1 = t["street"], t["community"], t["grids"][0]
    db.session.commit()

    w.gw_a1 = make_user(Role.GRID_WORKER, grid_id=w.grid_a1.id)
    w.gw_a2 = make_user(Role.GRID_WORKER, grid_id=w.grid_a2.id)
    w.gw_b1 = make_user(Role.GRID_WORKER, grid_id=w.grid_b1.id)
    w.gw_c1 = make_user(Role.GRID_WORKER, grid_id=w.grid_c1.id)
    w.cw_a = make_user(Role.COMMUNITY_WORKER, community_id=w.community_a.id)
    w.cw_b = make_user(Role.COMMUNITY_WORKER, community_id=w.community_b.id)
    w.cw_c = make_user(Role.COMMUNITY_WORKER, community_id=w.community_c.id)
    w.so_s = make_user(Role.STREET_OFFICER, street_id=w.street_s.id)
    w.so_t = make_user(Role.STREET_OFFICER, street_id=w.street_t.id)
    w.v_a1a = make_user(Role.VOLUNTEER, grid_id=w.grid_a1.id)
    w.v_a1b = make_user(Role.VOLUNTEER, grid_id=w.grid_a1.id)
    w.v_a2 = make_user(Role.VOLUNTEER, grid_id=w.grid_a2.id)
    w.v_b1 = make_user(Role.VOLUNTEER, grid_id=w.grid_b1.id)
    w.v_c1 = make_user(Role.VOLUNTEER, grid_id=w.grid_c1.id)

    _households(w)
    _categories(w)
    _teams(w)
    _needs_and_visits(w)
    _ledger_and_reviews(w)
    return w


def household(worker, moment: datetime, **fields):
    return at(moment, make_household, worker, today=_day(moment), **fields)


def _households(w: World) -> None:
    w.h1 = household(w.gw_a1, local(2031, 2, 10, 9))
    w.h2 = household(w.gw_a1, local(2031, 3, 5, 9))
    w.h3 = household(w.gw_a1, local(2031, 4, 1, 0, 0, 30))  # entered on 1 April, half a minute in
    w.h4 = household(w.gw_a1, local(2031, 3, 31, 23, 59))  # entered on 31 March, a minute before
    w.h5 = household(w.gw_a2, local(2031, 2, 20, 9))
    w.h6 = household(w.gw_a2, local(2031, 3, 15, 9), lives_alone=True)
    w.h7 = household(w.gw_b1, local(2031, 3, 3, 9))
    w.h8 = household(w.gw_b1, local(2031, 4, 2, 9))
    w.h9 = household(w.gw_c1, local(2031, 3, 10, 9))
    member = households.MemberData
    at(
        local(2031, 3, 15, 10),
        households.add_member,
        w.gw_a2,
        w.h6.id,
        member(name="看板老人", relation=Relation.PARENT, birth_date=date(1945, 3, 1)),
        date(2031, 3, 15),
    )
    at(
        local(2031, 2, 20, 10),
        households.add_member,
        w.gw_a2,
        w.h5.id,
        member(name="看板病人", relation=Relation.SPOUSE, serious_illness=True),
        date(2031, 2, 20),
    )
    at(
        local(2031, 3, 5, 10),
        households.add_member,
        w.gw_a1,
        w.h2.id,
        member(name="看板残疾", relation=Relation.CHILD, disability_grade=1),
        date(2031, 3, 5),
    )


def approve(w: World, proposer, reviewer, approver, household_id: int, category: Category, moment: datetime):
    """Proposed, reviewed and approved by three people, the approval at `moment`."""
    assignment = at(
        moment - timedelta(seconds=20), casework.propose_category, proposer, household_id, category
    )
    at(
        moment - timedelta(seconds=10),
        casework.decide_category,
        reviewer,
        assignment.id,
        ApprovalAction.REVIEW,
    )
    at(moment, casework.decide_category, approver, assignment.id, ApprovalAction.APPROVE)
    return assignment


def _categories(w: World) -> None:
    h1_dibao = approve(w, w.gw_a1, w.cw_a, w.so_s, w.h1.id, Category.DIBAO, local(2031, 2, 13, 10))
    approve(w, w.gw_a1, w.cw_a, w.so_s, w.h2.id, Category.ELDERLY_80, local(2031, 3, 31, 23, 59, 30))
    approve(w, w.gw_a1, w.cw_a, w.so_s, w.h2.id, Category.TEKUN, local(2031, 4, 1, 0, 0, 40))
    approve(w, w.gw_a2, w.cw_a, w.so_s, w.h5.id, Category.ORPHAN, local(2031, 3, 20, 10))
    approve(w, w.gw_b1, w.cw_b, w.so_s, w.h7.id, Category.DIBAO, local(2031, 3, 25, 10))
    approve(w, w.gw_c1, w.cw_c, w.so_t, w.h9.id, Category.DIBAO, local(2031, 3, 26, 10))
    approve(w, w.gw_a1, w.cw_a, w.so_s, w.h3.id, Category.DIBAO, local(2031, 4, 5, 10))
    at(local(2031, 3, 31, 23, 50), casework.propose_category, w.gw_a1, w.h4.id, Category.MARGINAL)
    at(
        local(2031, 4, 10, 10),
        casework.decide_category,
        w.cw_a,
        h1_dibao.id,
        ApprovalAction.REVOKE,
        "收入已超标",
    )


def _teams(w: World) -> None:
    w.team_a = at(local(2031, 2, 1, 9), teams.create_team, w.v_a1a, "看板一队")
    at(local(2031, 3, 1, 9), teams.join_team, w.v_a2, w.team_a.id)
    at(local(2031, 3, 20, 9), teams.join_team, w.v_a1b, w.team_a.id)
    at(local(2031, 4, 1, 0, 30), teams.leave_team, w.v_a2)


def need(worker, household_id: int, service: str, moment: datetime):
    data = casework.NeedData(service, f"看板需求 {service}", Urgency.NORMAL)
    return at(moment, casework.add_need, worker, household_id, data)


def post(worker, household_id: int, service: str, starts: datetime, posted: datetime, need_id=None):
    data = tasks.TaskData(
        household_id=household_id,
        service_type_code=service,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        description="看板任务",
        need_id=need_id,
    )
    return at(posted, tasks.create_task, worker, data)


def go(worker, volunteer, task, starts: datetime, minutes: int, confirm: bool = True):
    """Check in at `starts`, out `minutes` later, and (by default) confirm by the resident's QR link."""
    card = visits.current_card(task.household_id) or at(
        starts - timedelta(days=1), visits.issue_door_card, worker, task.household_id
    )
    token = visits.door_token(card)
    at(starts, visits.check_in, volunteer, task.id, token)
    out = starts + timedelta(minutes=minutes)
    at(out, visits.check_out, volunteer, task.id, token)
    if not confirm:
        return None
    url, _expires = at(out, visits.confirmation_link, volunteer, task.id)
    return at(out + timedelta(minutes=2), visits.confirm_visit, urlsplit(url).path.removeprefix("/c/"), 5, "")


def _needs_and_visits(w: World) -> None:
    # n1: claimed two hours after it was recorded, visited five days later, then met.
    w.n1 = need(w.gw_a1, w.h1.id, "housekeeping", local(2031, 2, 15, 10))
    task = post(w.gw_a1, w.h1.id, "housekeeping", local(2031, 2, 20, 10), local(2031, 2, 15, 11), w.n1.id)
    at(local(2031, 2, 15, 12), tasks.claim_task, w.v_a1a, task.id)
    w.c1 = go(w.gw_a1, w.v_a1a, task, local(2031, 2, 20, 10), 65)
    at(local(2031, 3, 1, 9), casework.close_need, w.gw_a1, w.n1.id, NeedStatus.MET, "已解决")
    # n2: claimed, given back, claimed by another; the visit starts before midnight
    # on 31 March and is confirmed after it (its points are April's).
    w.n2 = need(w.gw_a1, w.h2.id, "repairs", local(2031, 3, 6, 9))
    task = post(w.gw_a1, w.h2.id, "repairs", local(2031, 3, 31, 23, 30), local(2031, 3, 6, 10), w.n2.id)
    at(local(2031, 3, 6, 12), tasks.claim_task, w.v_a1a, task.id)
    at(local(2031, 3, 6, 13), tasks.unclaim_task, w.v_a1a, task.id, "临时有事")
    at(local(2031, 3, 7, 8), tasks.claim_task, w.v_a1b, task.id)
    w.c2 = go(w.gw_a1, w.v_a1b, task, local(2031, 3, 31, 23, 30), 75)
    # n3: recorded ten seconds before April; closed (no longer needed) in April.
    w.n3 = need(w.gw_a1, w.h4.id, "tutoring", local(2031, 3, 31, 23, 59, 50))
    at(local(2031, 4, 3, 9), casework.close_need, w.gw_a1, w.n3.id, NeedStatus.CLOSED, "已转介")
    # n4: visited, then found false: its points are reversed, so it is no verified visit.
    w.n4 = need(w.gw_a2, w.h5.id, "visiting", local(2031, 3, 16, 9))
    task = post(w.gw_a2, w.h5.id, "visiting", local(2031, 3, 18, 9), local(2031, 3, 16, 10), w.n4.id)
    at(local(2031, 3, 16, 11), tasks.claim_task, w.v_a2, task.id)
    w.c4 = go(w.gw_a2, w.v_a2, task, local(2031, 3, 18, 9), 50)
    at(local(2031, 3, 25, 9), points.reverse_visit, w.cw_a, w.c4.id, "虚假服务", PASSWORD)
    # n5: claimed in March, visited on 2 April by a volunteer who left the team on 1 April.
    w.n5 = need(w.gw_a2, w.h6.id, "meals", local(2031, 3, 16, 9))
    task = post(w.gw_a2, w.h6.id, "meals", local(2031, 4, 2, 11), local(2031, 3, 16, 12), w.n5.id)
    at(local(2031, 3, 17, 8), tasks.claim_task, w.v_a2, task.id)
    w.c5 = go(w.gw_a2, w.v_a2, task, local(2031, 4, 2, 11), 90)
    # n6 (community B) and n7 (community C, the other street).
    w.n6 = need(w.gw_b1, w.h7.id, "visiting", local(2031, 3, 4, 9))
    task = post(w.gw_b1, w.h7.id, "visiting", local(2031, 3, 10, 9), local(2031, 3, 4, 10), w.n6.id)
    at(local(2031, 3, 4, 15), tasks.claim_task, w.v_b1, task.id)
    w.c6 = go(w.gw_b1, w.v_b1, task, local(2031, 3, 10, 9), 45)
    at(local(2031, 3, 12, 9), casework.close_need, w.gw_b1, w.n6.id, NeedStatus.MET, "已解决")
    w.n7 = need(w.gw_c1, w.h9.id, "repairs", local(2031, 3, 11, 9))
    task = post(w.gw_c1, w.h9.id, "repairs", local(2031, 3, 12, 9), local(2031, 3, 11, 10), w.n7.id)
    at(local(2031, 3, 11, 11), tasks.claim_task, w.v_c1, task.id)
    w.c7 = go(w.gw_c1, w.v_c1, task, local(2031, 3, 12, 9), 120)
    # n8: claimed and visited but never confirmed.
    w.n8 = need(w.gw_a1, w.h1.id, "care", local(2031, 4, 10, 9))
    task = post(w.gw_a1, w.h1.id, "care", local(2031, 4, 12, 9), local(2031, 4, 10, 10), w.n8.id)
    at(local(2031, 4, 11, 9), tasks.claim_task, w.v_a1a, task.id)
    go(w.gw_a1, w.v_a1a, task, local(2031, 4, 12, 9), 30, confirm=False)
    # n9: closed when its household leaves the registry; the household comes back.
    w.n9 = need(w.gw_a1, w.h3.id, "errands", local(2031, 4, 2, 9))
    at(
        local(2031, 4, 20, 9),
        household_changes.exit_household,
        w.cw_a,
        w.h3.id,
        date(2031, 4, 20),
        "迁出",
        date(2031, 4, 20),
    )
    at(
        local(2031, 4, 25, 9),
        household_changes.reenter_household,
        w.cw_a,
        w.h3.id,
        date(2031, 4, 25),
        "迁回",
        date(2031, 4, 25),
    )
    # A visit for no need at all: a service delivered, but no need's time.
    task = post(w.gw_a2, w.h6.id, "housekeeping", local(2031, 4, 5, 14), local(2031, 4, 4, 9))
    at(local(2031, 4, 4, 10), tasks.claim_task, w.v_a1a, task.id)
    w.c10 = go(w.gw_a2, w.v_a1a, task, local(2031, 4, 5, 14), 100)


def _ledger_and_reviews(w: World) -> None:
    at(local(2031, 4, 6, 9), donations.donate, w.v_a1a, "pool", 5, "dashboard-test-donation-1")
    partner = at(
        local(2031, 4, 6, 10),
        bank.create_partner,
        w.so_s,
        bank.PartnerData(name="看板商店", kind=PartnerKind.MERCHANT),
    )
    reward = at(
        local(2031, 4, 6, 11),
        bank.create_reward,
        w.so_s,
        partner.id,
        bank.RewardData(
            name="看板礼品", point_price=3, valid_from=date(2031, 4, 6), community_id=w.community_a.id
        ),
    )
    at(local(2031, 4, 6, 12), stock.receive_stock, w.so_s, reward.id, 5, "到货")
    kept = at(local(2031, 4, 7, 9), vouchers.redeem, w.v_a1b, reward.id)
    returned = at(local(2031, 4, 7, 10), vouchers.redeem, w.v_a1b, reward.id)
    at(local(2031, 4, 8, 9), vouchers.cancel_voucher, w.v_a1b, returned.id)
    w.vouchers = [kept, returned]
    review = casework.record_review
    at(
        local(2031, 3, 20, 9),
        review,
        w.gw_a1,
        w.h1.id,
        date(2031, 3, 20),
        ReviewOutcome.CONTINUE,
        "",
        date(2031, 3, 20),
    )
    at(
        local(2031, 4, 1, 9),
        review,
        w.gw_a2,
        w.h5.id,
        date(2031, 4, 1),
        ReviewOutcome.CONTINUE,
        "",
        date(2031, 4, 1),
    )
    at(
        local(2031, 4, 22, 9),
        review,
        w.cw_a,
        w.h4.id,
        date(2031, 4, 22),
        ReviewOutcome.EXIT,
        "已脱困",
        date(2031, 4, 22),
    )
    at(
        local(2031, 3, 28, 9),
        review,
        w.gw_b1,
        w.h7.id,
        date(2031, 3, 28),
        ReviewOutcome.CONTINUE,
        "",
        date(2031, 3, 28),
    )
