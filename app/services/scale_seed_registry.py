"""seed-scale: households (台账) — address, members with encrypted ID numbers,
consent, monthly finances, entry/exit history, door cards, resident accounts,
family proxies and help requests. Casework (categories, needs, reviews …)
is scale_seed_casework's, called per household."""

from dataclasses import dataclass, field

from app.models import Role
from app.services import scale_seed_casework as casework
from app.services import scale_seed_text as text
from app.services.scale_seed_family import ELDERLY, people_of, put_finances, put_member
from app.services.visits import CODE_ALPHABET, CODE_LENGTH

# archetype: (weight, tasks a week before scaling, services its needs come from)
ARCHETYPES = {
    "elder_alone": (
        22,
        1.8,
        ("visiting", "housekeeping", "meals", "medical_escort", "day_care", "haircut", "care"),
    ),
    "elder_couple": (12, 1.2, ("visiting", "housekeeping", "errands", "repairs", "cleaning", "haircut")),
    "dibao_family": (18, 0.8, ("tutoring", "repairs", "housekeeping", "errands")),
    "disability": (12, 1.5, ("care", "medical_escort", "housekeeping", "errands", "haircut")),
    "children": (6, 1.0, ("tutoring", "visiting", "meals")),
    "marginal": (12, 0.5, ("tutoring", "repairs", "errands")),
    "expenditure": (10, 1.2, ("medical_escort", "meals", "care", "housekeeping")),
    "tekun": (8, 1.6, ("visiting", "meals", "care", "medical_escort", "cleaning")),
}
# The first households show every category and every step however small the city:
# (archetype, what its people must have); then casework.SHOWCASE_* by index.
SHOWCASE = (
    ("elder_alone", "80+"),
    ("children", "orphan"),
    ("disability", "severe"),
    ("tekun", None),
    ("dibao_family", None),
    ("marginal", None),
    ("expenditure", None),
)
SHOWCASE_EXIT, SHOWCASE_REENTRY = 4, 5


@dataclass(slots=True)
class HouseholdInfo:
    """What later phases need to know about a household."""

    id: int
    grid: int
    community: int
    archetype: str
    weight: float  # relative number of tasks a week
    spans: list[tuple[int, int]]  # local days [from, to) when tasks may be posted for it
    head: str
    needs: list = field(default_factory=list)  # [need id, service, urgency, open from, open until, text]
    proxy: int | None = None
    member_user: int | None = None
    showcase: int | None = None  # index into SHOWCASE for the first households


def seed_households(world, advance) -> None:
    rng, w = world.rng("households"), world.w
    world.put_household = w.table(
        "household",
        ("id", "grid_id", "building", "unit", "room", "contact_phone", "register_type", "resident_since",
         "lives_alone", "income_stable", "property_within_limits", "status", "next_review_on", "created_at",
         "created_by_id"),
    )  # fmt: skip
    world.put_member = w.table(
        "member",
        ("id", "household_id", "name", "relation", "user_id", "id_number", "id_index", "id_last4", "id_region",
         "birth_date", "sex", "serious_illness", "disability_grade", "work_capacity", "schooling"),
    )  # fmt: skip
    world.put_event = w.table(
        "household_event", ("id", "household_id", "kind", "on", "reason", "approved_by_id", "recorded_at")
    )
    world.put_consent = w.table(
        "consent_record", ("id", "household_id", "given", "on", "scope", "taken_by_id", "recorded_at")
    )
    world.put_finance = w.table(
        "monthly_finance",
        ("id", "household_id", "month", "income", "illness_expense", "disaster_expense", "schooling_expense",
         "recorded_by_id", "recorded_at"),
    )  # fmt: skip
    world.put_card = w.table(
        "door_card", ("id", "household_id", "code", "issued_at", "issued_by_id", "revoked_at")
    )
    world.put_audit = w.table(
        "audit_entry",
        (
            "id",
            "at",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "household_id",
            "grid_id",
            "fields",
            "note",
        ),
    )
    world.put_proxy = w.table(
        "household_proxy", ("id", "household_id", "user_id", "relation", "created_by_id", "created_at")
    )
    world.put_help = w.table(
        "help_request",
        ("id", "grid_id", "name", "phone", "address", "need", "service_type_code", "status", "created_at",
         "handled_by_id", "handled_at", "handling_note", "household_id"),
    )  # fmt: skip
    casework.prepare(world)
    world.id_numbers = text.IdNumbers()
    world.card_codes: set[str] = set()
    world.households: list[HouseholdInfo] = []
    names = list(ARCHETYPES)
    weights = [ARCHETYPES[n][0] for n in names]
    grids = list(world.grids)
    counts = [world.plan.households // len(grids)] * len(grids)
    for i in rng.sample(range(len(grids)), world.plan.households % len(grids)):
        counts[i] += 1
    for grid_id, count in zip(grids, counts, strict=True):
        addresses: set[tuple] = set()
        for _ in range(count):
            showcase = len(world.households) if len(world.households) < len(SHOWCASE) else None
            archetype = SHOWCASE[showcase][0] if showcase is not None else rng.choices(names, weights)[0]
            world.households.append(_household(world, rng, grid_id, archetype, addresses, showcase))
            advance(1)


def _address(rng, taken: set) -> tuple[str, str, str]:
    while True:
        place = (f"{rng.randint(1, 36)}号楼", str(rng.randint(1, 4)) if rng.random() < 0.8 else "",
                 f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}")  # fmt: skip
        if place not in taken:
            taken.add(place)
            return place


def _contact_phone(rng) -> str:
    if rng.random() < 0.2:
        return f"0631-{rng.randint(5000000, 5999999)}"  # an elderly household's landline
    return f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"


def _household(world, rng, grid_id: int, archetype: str, addresses: set, showcase=None) -> HouseholdInfo:
    w, times = world.w, world.times
    household_id = w.next_id("household")
    community_id = world.grid_community[grid_id]
    worker = world.grid_workers[grid_id][0]
    entry = -rng.randint(30, 1095) if showcase is None else -900
    created = entry * 1440 + rng.randint(9 * 60, 17 * 60)
    must = SHOWCASE[showcase][1] if showcase is not None else None
    while True:
        people, lives_alone, income_stable = people_of(rng, times.day(0), archetype)
        head = people[0]
        if must is None or (must == "80+" and head.birth.year <= world.as_of.year - 81) or (
            must == "severe" and head.disability in (1, 2)) or must == "orphan":  # fmt: skip
            break
    consent = archetype in ("dibao_family", "marginal", "expenditure") or rng.random() < 0.88
    exit_day = reentry_day = None
    exits = rng.random() < 0.06 and entry < -200 and showcase is None
    if exits or showcase in (SHOWCASE_EXIT, SHOWCASE_REENTRY):
        exit_day = rng.randint(entry + 120, -30 if showcase is None else -200)
        if (rng.random() < 0.25 and exit_day < -120 and showcase is None) or showcase == SHOWCASE_REENTRY:
            reentry_day = rng.randint(exit_day + 60, -20)
    active = exit_day is None or reentry_day is not None
    info = HouseholdInfo(
        household_id, grid_id, community_id, archetype, ARCHETYPES[archetype][1] * rng.uniform(0.4, 1.6),
        _spans(entry, exit_day, reentry_day), people[0].name, showcase=showcase,
    )  # fmt: skip

    resident = (
        world.users.add(people[0].name, created, (Role.RESIDENT,), grid=grid_id)
        if rng.random() < 0.03
        else None
    )
    info.member_user = resident
    region = rng.choice(text.REGIONS)
    building, unit, room = _address(rng, addresses)
    register, since = "LOCAL", None
    if rng.random() < 0.1:
        register, since = "RESIDENT", entry - rng.randint(2 * 366, 15 * 365)
    plan = casework.ReviewPlan(world, rng, info, people, income_stable, entry, exit_day, reentry_day)
    world.put_household(
        (household_id, grid_id, building, unit, room, _contact_phone(rng), register, since, lives_alone,
         income_stable, True, "ACTIVE" if active else "EXITED", plan.next_review, created, worker)
    )  # fmt: skip
    figures = (
        put_finances(world, rng, household_id, archetype, len(people), entry, worker) if consent else None
    )
    casework.seed_casework(world, rng, info, people, figures, plan)
    for i, person in enumerate(people):
        put_member(world, rng, household_id, person, region, consent, resident if i == 0 else None)
    _history(world, rng, info, created, worker, consent, entry, exit_day, reentry_day)
    if archetype in ELDERLY and rng.random() < 0.06:
        info.proxy = world.users.add(text.person_name(rng), created, (Role.RESIDENT,), grid=grid_id)
        world.put_proxy((w.next_id("household_proxy"), household_id, info.proxy,
                         rng.choice(text.PROXY_RELATIONS), worker, created + 2 * 1440))  # fmt: skip
    if rng.random() < 0.12:
        _help_request(world, rng, info, f"{building}{unit and unit + '单元'}{room}", worker, entry)
    return info


def _spans(entry: int, exit_day: int | None, reentry_day: int | None) -> list[tuple[int, int]]:
    """Days when the household is in the registry and may get tasks (from a week after entering)."""
    end_of_time = 10_000
    if exit_day is None:
        return [(entry + 7, end_of_time)]
    spans = [(entry + 7, exit_day)]
    if reentry_day is not None:
        spans.append((reentry_day + 7, end_of_time))
    return spans


def _history(
    world, rng, info: HouseholdInfo, created: int, worker: int, consent: bool, entry, exit_day, reentry_day
):
    """Entry (and exit, re-entry) events, consent, door cards and the audit trail of it."""
    w = world.w
    world.put_event((w.next_id("household_event"), info.id, "ENTERED", entry, "", worker, created))
    audit(world, created, worker, "create", "household", info.id, info)
    if consent:
        world.put_consent(
            (w.next_id("consent_record"), info.id, True, entry, text.CONSENT_SCOPE, worker, created)
        )
    card_from = created + rng.randint(60, 3 * 1440)
    revoked = exit_day * 1440 + 11 * 60 if exit_day is not None else None
    if revoked is None and rng.random() < 0.02:  # lost once and reissued
        revoked = card_from + rng.randint(30, 300) * 1440
        revoked = min(revoked, -1440)
        _card(world, rng, info.id, worker, card_from, revoked)
        card_from = revoked + 60
        revoked = None
    _card(world, rng, info.id, worker, card_from, revoked)
    if exit_day is None:
        return
    reason, approver = world.exit_reasons[info.id]
    for kind, day, reasons in (
        ("EXITED", exit_day, text.EXIT_REASONS),
        ("REENTERED", reentry_day, text.REENTRY_REASONS),
    ):
        if day is None:
            continue
        at = day * 1440 + 10 * 60
        if kind == "REENTERED":
            reason = rng.choice(reasons)
        world.put_event((w.next_id("household_event"), info.id, kind, day, reason, approver, at))
        audit(world, at, approver, kind.lower(), "household", info.id, info, note=reason)
        if kind == "REENTERED":
            _card(world, rng, info.id, worker, at + 1440, None)


def _card(world, rng, household_id: int, worker: int, issued: int, revoked: int | None) -> None:
    while True:
        code = text.token(rng, CODE_LENGTH, CODE_ALPHABET)
        if code not in world.card_codes:
            world.card_codes.add(code)
            break
    world.put_card((world.w.next_id("door_card"), household_id, code, issued, worker, revoked))


def audit(
    world, at: int, actor, action: str, object_type: str, object_id, info=None, *, grid=None, note=""
) -> None:
    world.put_audit(
        (world.w.next_id("audit_entry"), at, actor, action, object_type, object_id, info.id if info else None,
         info.grid if info else grid, "", note[:500])
    )  # fmt: skip


def _help_request(world, rng, info: HouseholdInfo, address: str, worker: int, entry: int) -> None:
    """A request for help from the public page, from this household's address; most already handled."""
    day = rng.randint(entry, -1)
    created = day * 1440 + rng.randint(7 * 60, 21 * 60)
    service = rng.choice(world.service_codes)
    if day > -7 and rng.random() < 0.7:
        status, handled, handler, note, linked = "NEW", None, None, "", None
    elif rng.random() < 0.85:
        status, handled, handler, note, linked = (
            "ACCEPTED",
            created + rng.randint(30, 2880),
            worker,
            "已入户核实",
            info.id,
        )
    else:
        status, handled, handler, note, linked = (
            "DISMISSED",
            created + rng.randint(30, 2880),
            worker,
            "重复求助",
            None,
        )
    world.put_help(
        (world.w.next_id("help_request"), info.grid, text.person_name(rng), _contact_phone(rng), address,
         rng.choice(text.HELP_NEEDS), service, status, created, handler, min(handled, -1) if handled else None,
         note, linked)
    )  # fmt: skip
