"""The plan of a run: the ids each scenario uses, found by SQL in whatever city
the database holds, and the visits prepared through the app's own services.

Nothing here knows the data: a volunteer with claims and points (the busiest,
so the pages are measured at their heaviest), an open task in their community,
the grid worker of the largest grid, the community worker of the largest
community, and for the write scenarios volunteers who can really claim. Where
the city has too few (the demo data), the services make more: open tasks,
and bench volunteers named 压测志愿者… in the grid worker's grid.

Prepared visits are claimed and checked in with the household's door card,
so the bench can check them out and confirm them over HTTP as phones do.
Their volunteers' bearer tokens come from the service that answers POST
/api/v1/auth/token (the same token): hundreds of password checks on the
server would only load it before the measurement. Every user who logs in
during the run gets the bench password if theirs is another.
"""

import logging
import os
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, url_for
from werkzeug.security import check_password_hash

from app import clock
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    ClaimStatus,
    Community,
    DoorCard,
    Grid,
    Household,
    HouseholdStatus,
    LedgerAccount,
    Member,
    Role,
    ServiceType,
    Street,
    Task,
    TaskStatus,
    User,
    UserRole,
)
from app.services import accounts, tasks, visits
from app.services.demo import DEMO_PASSWORD
from app.services.errors import DomainError
from bench.database import BenchError

PASSWORD = DEMO_PASSWORD  # seed-demo's; set on the few users who log in, if theirs differs
BENCH_VOLUNTEER = "压测志愿者"
log = logging.getLogger(__name__)


def build_plan(app: Flask, clients: int, visit_count: int) -> dict:
    """Find and prepare everything the scenarios need; commits what it makes."""
    logging.getLogger("app").setLevel(logging.WARNING)  # one line per notification otherwise
    with app.app_context():
        volunteer, community_id = _busiest_volunteer()
        task_id = _open_task(community_id, volunteer.id)
        grid_worker = _staff_of_largest(Role.GRID_WORKER)
        community_worker = _staff_of_largest(Role.COMMUNITY_WORKER)
        city_id = db.session.scalar(
            sa.select(Street.city_id)
            .join(Community, Community.street_id == Street.id)
            .where(Community.id == community_id)
        )
        supply = VolunteerSupply(grid_worker.grid_id, avoid={volunteer.id})
        claimers = _claimers(clients, grid_worker, supply, avoid_tasks={task_id})
        prepared = _visits(visit_count + 1, grid_worker, supply)  # one more for the page weight
        for user in (volunteer, grid_worker, community_worker, *(c["user"] for c in claimers)):
            _ensure_password(user)
        plan = {
            "password": PASSWORD,
            "volunteer": _who(volunteer),
            "task_id": task_id,
            "grid_worker": _who(grid_worker),
            "community_worker": _who(community_worker),
            "community_scope": f"community:{community_id}",
            "city_scope": f"city:{city_id}",
            "claimers": [{**_who(c["user"]), "task_id": c["task_id"]} for c in claimers],
            "visits": prepared[:-1],
            "weight_visit": prepared[-1],
            "dashboard_path": dashboard_path(app, community_worker.community_id),
        }
        db.session.remove()
    return plan


def _who(user: User) -> dict:
    return {"id": user.id, "phone": user.phone}


def _with_role(role: Role):
    return sa.and_(UserRole.user_id == User.id, UserRole.role == role)


def _busiest_volunteer() -> tuple[User, int]:
    """The volunteer with the most claims who has points and whose community has an open task."""
    soon = clock.now() + timedelta(hours=1)
    open_communities = (
        sa.select(Grid.community_id)
        .join(Task, Task.grid_id == Grid.id)
        .where(Task.status == TaskStatus.OPEN, Task.starts_at > soon)
        .distinct()
    )
    claims = sa.select(Claim.volunteer_id, sa.func.count().label("n")).group_by(Claim.volunteer_id).subquery()
    account = sa.and_(LedgerAccount.kind == AccountKind.VOLUNTEER, LedgerAccount.owner_id == User.id)
    row = db.session.execute(
        sa.select(User, Grid.community_id)
        .join(Grid, Grid.id == User.grid_id)
        .join(claims, claims.c.volunteer_id == User.id)
        .join(UserRole, _with_role(Role.VOLUNTEER))
        .join(LedgerAccount, account)
        .where(
            User.active,
            LedgerAccount.balance > 0,
            Grid.community_id.in_(open_communities),
            User.name.not_like(f"{BENCH_VOLUNTEER}%"),  # the bench's own, who gain a visit each run
        )
        .order_by(claims.c.n.desc(), User.id)
        .limit(1)
    ).first()
    if row is None:
        raise BenchError("no volunteer with claims and points whose community has an open task")
    return row[0], row[1]


def _open_task(community_id: int, volunteer_id: int) -> int:
    task_id = db.session.scalar(
        sa.select(Task.id)
        .join(Grid, Grid.id == Task.grid_id)
        .where(
            Grid.community_id == community_id,
            Task.status == TaskStatus.OPEN,
            Task.starts_at > clock.now() + timedelta(hours=1),
            ~sa.exists().where(Claim.task_id == Task.id, Claim.volunteer_id == volunteer_id),
        )
        .order_by(Task.starts_at, Task.id)
        .limit(1)
    )
    if task_id is None:
        raise BenchError(f"no open task in community {community_id}")
    return task_id


def _staff_of_largest(role: Role) -> User:
    """The grid (or community) worker whose unit has the most active households."""
    unit = Household.grid_id if role is Role.GRID_WORKER else Grid.community_id
    sizes = (
        sa.select(unit.label("unit_id"), sa.func.count().label("n"))
        .select_from(Household)
        .join(Grid, Grid.id == Household.grid_id)
        .where(Household.status == HouseholdStatus.ACTIVE)
        .group_by(unit)
        .subquery()
    )
    column = User.grid_id if role is Role.GRID_WORKER else User.community_id
    user = db.session.scalar(
        sa.select(User)
        .join(UserRole, _with_role(role))
        .join(sizes, sizes.c.unit_id == column)
        .where(User.active)
        .order_by(sizes.c.n.desc(), User.id)
        .limit(1)
    )
    if user is None:
        raise BenchError(f"no {role.value} with households in their unit")
    return user


class VolunteerSupply:
    """Volunteers of a grid's community who hold no live claim; then new bench volunteers."""

    def __init__(self, grid_id: int, avoid: set[int]):
        self.grid_id = grid_id
        self.community_id = db.session.get(Grid, grid_id).community_id
        self.used = set(avoid)
        self._existing: list[int] | None = None

    def take(self) -> User:
        if self._existing is None:
            self._existing = self._free_volunteers()
        while self._existing:
            user_id = self._existing.pop(0)
            if user_id not in self.used:
                self.used.add(user_id)
                return db.session.get(User, user_id)
        user = self._new_volunteer()
        self.used.add(user.id)
        return user

    def _free_volunteers(self) -> list[int]:
        live = (  # a claim that could overlap a new visit (left-overs of an earlier run end soon)
            sa.select(Claim.id)
            .join(Task, Task.id == Claim.task_id)
            .where(
                Claim.volunteer_id == User.id,
                Claim.status.in_((ClaimStatus.ACTIVE, ClaimStatus.CHECKED_IN)),
                Task.ends_at > clock.now(),
            )
            .exists()
        )
        member = sa.exists().where(Member.user_id == User.id)
        return list(
            db.session.scalars(
                sa.select(User.id)
                .join(Grid, Grid.id == User.grid_id)
                .join(UserRole, _with_role(Role.VOLUNTEER))
                .where(Grid.community_id == self.community_id, User.active, ~live, ~member)
                .order_by(User.id)
                .limit(5000)
            )
        )

    def _new_volunteer(self) -> User:
        number = db.session.scalar(sa.select(sa.func.count()).where(User.name.like(f"{BENCH_VOLUNTEER}%")))
        while True:
            number += 1
            phone = f"197{number:08d}"
            if accounts.find_by_phone(phone) is None:
                profile = accounts.VolunteerProfile(
                    name=f"{BENCH_VOLUNTEER}{number:05d}", grid_id=self.grid_id
                )
                return accounts.register_volunteer(profile, phone, PASSWORD)


def _service_code() -> str:
    code = db.session.scalar(
        sa.select(ServiceType.code).where(ServiceType.active).order_by(ServiceType.position)
    )
    if code is None:
        raise BenchError("no active service type")
    return code


def _households_with_cards(grid_worker: User, at_least: int = 3) -> list[tuple[int, str]]:
    """(household id, door token) of active households of the worker's grid with a live door card."""
    active = sa.and_(Household.grid_id == grid_worker.grid_id, Household.status == HouseholdStatus.ACTIVE)
    carded = sa.select(DoorCard).join(Household, Household.id == DoorCard.household_id)
    cards = list(
        db.session.scalars(
            carded.where(active, DoorCard.revoked_at.is_(None)).order_by(DoorCard.id).limit(10)
        )
    )
    if len(cards) < at_least:
        has_card = sa.exists().where(DoorCard.household_id == Household.id, DoorCard.revoked_at.is_(None))
        for household_id in db.session.scalars(
            sa.select(Household.id)
            .where(active, ~has_card)
            .order_by(Household.id)
            .limit(at_least - len(cards))
        ):
            cards.append(visits.issue_door_card(grid_worker, household_id))
    if not cards:
        raise BenchError(f"no active household in grid {grid_worker.grid_id} for the visits")
    return [(card.household_id, visits.door_token(card)) for card in cards]


def _new_task(grid_worker: User, household_id: int, starts, note: str) -> int:
    data = tasks.TaskData(household_id, _service_code(), starts, starts + timedelta(hours=1), note)
    return tasks.create_task(grid_worker, data).id


def _claimers(count: int, grid_worker: User, supply: VolunteerSupply, avoid_tasks: set[int]) -> list[dict]:
    """`count` (volunteer, open task) pairs, each checked by a real claim and unclaim."""
    found: list[dict] = []
    later = clock.now() + timedelta(hours=6)  # nothing starts (or is released) during the run
    candidates = list(
        db.session.scalars(
            sa.select(Task.id)
            .join(Grid, Grid.id == Task.grid_id)
            .where(
                Grid.community_id == supply.community_id,
                Task.status == TaskStatus.OPEN,
                Task.taken < Task.slots,
                Task.starts_at > later,
                Task.id.not_in(avoid_tasks),
            )
            .order_by(Task.starts_at.desc(), Task.id)
            .limit(count)
        )
    )
    households = _households_with_cards(grid_worker)
    attempts = 0
    while len(found) < count:
        attempts += 1
        if attempts > 4 * count + 10:
            raise BenchError(f"could not find {count} volunteers who can claim an open task")
        if candidates:
            task_id = candidates.pop(0)
        else:
            starts = later + timedelta(days=1, hours=2 * len(found))
            task_id = _new_task(
                grid_worker, households[len(found) % len(households)][0], starts, "压测任务：认领"
            )
        user = supply.take()
        try:
            tasks.claim_task(user, task_id)
            tasks.unclaim_task(user, task_id, "压测预检")
        except DomainError:
            db.session.rollback()
            continue
        found.append({"user": user, "task_id": task_id})
    return found


def _visits(count: int, grid_worker: User, supply: VolunteerSupply) -> list[dict]:
    """`count` visits claimed and checked in, each by its own volunteer."""
    households = _households_with_cards(grid_worker)
    starts = clock.now() + timedelta(minutes=20)  # in the future, and within check-in's 30 minutes
    prepared: list[dict] = []
    failures = 0
    while len(prepared) < count:
        household_id, door_token = households[len(prepared) % len(households)]
        task_id = _new_task(grid_worker, household_id, starts, f"压测上门 {len(prepared) + 1}")
        user = supply.take()
        try:
            tasks.claim_task(user, task_id)
            visits.check_in(user, task_id, door_token)
        except DomainError as error:
            db.session.rollback()
            tasks.cancel_task(grid_worker, task_id, "压测：未用")
            failures += 1
            if failures > count:
                raise BenchError(f"could not prepare visits: {error.message}") from None
            continue
        prepared.append(
            {"task_id": task_id, "token": accounts.issue_api_token(user), "door_token": door_token}
        )
        if len(prepared) % 50 == 0:
            print(f"   {len(prepared)}/{count} visits prepared", flush=True)
    return prepared


def _ensure_password(user: User) -> None:
    """Give a user who logs in during the run the bench password, unlocked (bench database only)."""
    if not check_password_hash(user.password_hash, PASSWORD):
        user.password_hash = accounts.hash_password(PASSWORD)
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
    db.session.commit()


def dashboard_path(app: Flask, community_id: int | None) -> str | None:
    """The community dashboard's URL if the app has one: a GET endpoint named *dashboard*
    needing at most a community id (BENCH_DASHBOARD_ENDPOINT names another)."""
    wanted = os.environ.get("BENCH_DASHBOARD_ENDPOINT")
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and (rule.endpoint == wanted if wanted else "dashboard" in rule.endpoint)
        and set(rule.arguments) <= {"community_id"}
    ]
    if not rules:
        return None
    rule = sorted(rules, key=lambda r: ("community" not in r.endpoint, len(r.arguments), r.endpoint))[0]
    arguments = {"community_id": community_id} if "community_id" in rule.arguments else {}
    with app.test_request_context():
        return url_for(rule.endpoint, **arguments)
