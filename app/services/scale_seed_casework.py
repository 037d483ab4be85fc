"""seed-scale: a household's casework — categories through proposal, review
and approval by three different people, causes, needs, measures, follow-ups
and periodic reviews on the schedule the rules give (services.eligibility),
with exits and re-entries closing and restarting it as the services do."""

from app.models import Category, Cause, ServiceType
from app.services import scale_seed_text as text
from app.services.eligibility import Figures, Standard, add_months, classify, review_interval_months

C = Category
URGENCIES = (("NORMAL", 70), ("URGENT", 22), ("CRITICAL", 8))
CAUSES = {
    "elder_alone": (Cause.OLD_AGE, Cause.ILLNESS),
    "elder_couple": (Cause.OLD_AGE, Cause.ILLNESS),
    "dibao_family": (Cause.UNEMPLOYMENT, Cause.ILLNESS),
    "disability": (Cause.DISABILITY, Cause.NO_LABOUR),
    "children": (Cause.NO_LABOUR, Cause.OTHER),
    "marginal": (Cause.UNEMPLOYMENT, Cause.SCHOOLING),
    "expenditure": (Cause.ILLNESS, Cause.SCHOOLING),
    "tekun": (Cause.NO_LABOUR, Cause.ILLNESS),
}
# Showcase households (registry.SHOWCASE) by index: a pending proposal, one
# reviewed and awaiting approval, a rejection, a revocation at a review.
SHOWCASE_PROPOSED, SHOWCASE_REVIEWED, SHOWCASE_REJECTED, SHOWCASE_REVOKED = 0, 1, 2, 3
SHOWCASE_ORPHAN = 1  # registry.SHOWCASE[1] is the orphan's household
EXTRA = {"elder_alone": C.TEKUN, "children": C.ORPHAN, "disability": C.DIBAO, "elder_couple": C.DIBAO}


def prepare(world) -> None:
    from app.extensions import db

    w = world.w
    codes = db.session.scalars(
        ServiceType.__table__.select().with_only_columns(ServiceType.code)
        .where(ServiceType.active.is_(True)).order_by(ServiceType.position, ServiceType.code)
    ).all()  # fmt: skip
    db.session.rollback()
    world.service_codes = list(codes)
    world.exit_reasons = {}
    world.put_assignment = w.table(
        "category_assignment", ("id", "household_id", "category", "status", "proposed_by_id", "proposed_at")
    )
    world.put_step = w.table("approval_step", ("id", "assignment_id", "action", "by_id", "at", "note"))
    world.put_cause = w.table(
        "hardship_cause", ("id", "household_id", "cause", "note", "recorded_by_id", "recorded_at")
    )
    world.put_need = w.table(
        "need",
        ("id", "household_id", "service_type_code", "description", "urgency", "status", "created_by_id",
         "created_at", "closed_at", "closed_by_id", "close_note"),
    )  # fmt: skip
    world.put_measure = w.table(
        "measure",
        ("id", "household_id", "need_id", "kind", "description", "on", "recorded_by_id", "recorded_at"),
    )
    world.put_follow_up = w.table(
        "follow_up",
        ("id", "household_id", "on", "method", "note", "satisfaction", "recorded_by_id", "recorded_at"),
    )
    world.put_review = w.table(
        "review",
        ("id", "household_id", "reviewed_on", "outcome", "note", "next_review_on", "by_id", "recorded_at"),
    )


def _age(birth, today) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def categories_for(world, rng, archetype: str, people, figures, must_orphan=False) -> list[Category]:
    """The categories staff would give this household; computed ones from its figures."""
    head = people[0]
    age = _age(head.birth, world.as_of)
    found: list[Category] = []
    if archetype == "elder_alone":
        found += [C.ELDERLY_ALONE] + ([C.TEKUN] if rng.random() < 0.15 else [])
    elif archetype in ("elder_couple", "dibao_family") and (
        archetype == "dibao_family" or rng.random() < 0.4
    ):
        found.append(C.DIBAO)
    elif archetype == "disability":
        found += [C.SEVERE_DISABILITY] if head.disability in (1, 2) else [C.DIBAO]
    elif archetype == "children":
        found += [C.CHILD_IN_DIFFICULTY] + ([C.ORPHAN] if rng.random() < 0.5 else [])
    elif archetype == "tekun":
        found += [C.TEKUN] + ([C.SEVERE_DISABILITY] if head.disability in (1, 2) else [])
    if archetype in ("marginal", "expenditure") and figures is not None:
        standard = Standard(world.standard_fen)
        members, months, income, rigid = figures
        found += sorted(
            classify(Figures(members, months, income, rigid), standard).categories, key=lambda c: c.name
        )
    if archetype == "children" and must_orphan:
        found.append(C.ORPHAN)
    if archetype == "dibao_family" and len(people) > 1 and rng.random() < 0.2:
        found.append(C.CHILD_IN_DIFFICULTY)
    if age >= 80:
        found.append(C.ELDERLY_80)
    return list(dict.fromkeys(found)) or [C.DIBAO]


def _review_plan(world, rng, interval: int, segments) -> list[tuple[int, str]]:
    """(day, outcome) of every review: on schedule (a little early or late), the
    exit as a review with outcome EXIT; the last one or two sometimes missed (overdue)."""
    times, plan = world.times, []
    for start, end in segments:
        day = start
        while True:
            due = times.days_of(add_months(times.day(day), interval))
            done = min(due + rng.randint(-5, 10), -1)
            if due > -1 or (end is not None and done >= end) or rng.random() < 0.03:
                break
            plan.append((done, "CONTINUE"))
            day = done
        if end is not None:
            plan.append((end, "EXIT"))
    return plan


class ReviewPlan:
    """When a household is reviewed, by whom it leaves the registry and why, and its next review."""

    def __init__(self, world, rng, info, people, income_stable, entry, exit_day, reentry_day):
        times = world.times
        self.worker = world.grid_workers[info.grid][0]
        self.reviewer = rng.choice(world.community_workers[info.community])
        self.approver = rng.choice(world.street_officers[world.community_street[info.community]])
        self.interval = review_interval_months([p.work for p in people], income_stable)
        self.segments = [(entry, exit_day)] + ([(reentry_day, None)] if reentry_day is not None else [])
        self.reviews = _review_plan(world, rng, self.interval, self.segments)
        self.reason = rng.choice(text.EXIT_REASONS)
        if exit_day is not None:
            world.exit_reasons[info.id] = (self.reason, self.reviewer)
        last_start = max(
            [self.segments[-1][0]] + [d for d, o in self.reviews if o != "EXIT" and d >= self.segments[-1][0]]
        )
        self.next_review = None
        if exit_day is None or reentry_day is not None:
            self.next_review = times.days_of(add_months(times.day(last_start), self.interval))


def seed_casework(world, rng, info, people, figures, plan: ReviewPlan) -> None:
    """Categories, causes, needs, measures, follow-ups and reviews of one household."""
    w, times = world.w, world.times
    worker, reviewer, approver = plan.worker, plan.reviewer, plan.approver
    segments, reviews, reason, interval = plan.segments, plan.reviews, plan.reason, plan.interval
    entry = segments[0][0]
    categories = categories_for(world, rng, info.archetype, people, figures, info.showcase == SHOWCASE_ORPHAN)
    changes = {}
    for start, end in segments:
        for category in categories:
            proposed = start * 1440 + rng.randint(9 * 60, 17 * 60) + rng.randint(1, 5) * 1440
            steps = [("PROPOSE", worker, proposed, "入户核实")]
            at = proposed + rng.randint(1, 7) * 1440
            later = [
                r
                for r in reviews
                if r[0] * 1440 > at + 10 * 1440 and r[1] == "CONTINUE" and (end is None or r[0] < end)
            ]
            roll = rng.random() if info.showcase is None else 1.0  # showcases keep their categories
            if roll < 0.05 and end is None:
                steps.append(("REJECT", reviewer, at, rng.choice(text.REJECT_NOTES)))
            else:
                steps.append(("REVIEW", reviewer, at, "材料齐全"))
                steps.append(("APPROVE", approver, at + rng.randint(1, 10) * 1440, "同意"))
                if end is not None:
                    steps.append(("REVOKE", reviewer, end * 1440 + 10 * 60, reason))
                elif roll < 0.11 and later:
                    day = rng.choice(later)[0]
                    changes[day] = rng.choice(text.CHANGE_NOTES)
                    steps.append(("REVOKE", reviewer, day * 1440 + 10 * 60, changes[day]))
            _assignment(world, info, category, [s for s in steps if s[2] < 0])
    if segments[-1][1] is None:
        _extra(world, rng, info, categories, plan, changes)
    for day, outcome in reviews:
        if outcome == "CONTINUE" and day in changes:
            outcome = "CHANGE"
        by = worker if outcome == "CONTINUE" else reviewer
        note = {"CONTINUE": rng.choice(text.REVIEW_NOTES), "CHANGE": changes.get(day, ""), "EXIT": reason}[
            outcome
        ]
        following = None if outcome == "EXIT" else times.days_of(add_months(times.day(day), interval))
        w_id = w.next_id("review")
        world.put_review(
            (w_id, info.id, day, outcome, note, following, by, day * 1440 + rng.randint(9 * 60, 17 * 60))
        )
    _causes(world, rng, info, worker, entry)
    for start, end in segments:
        _needs(world, rng, info, worker, reviewer, start, end, reason)
    _measures_and_follow_ups(world, rng, info, worker, entry)


def _extra(world, rng, info, categories, plan, changes) -> None:
    """Now and then a further category after entry: proposed lately (pending
    review or approval, or rejected), or approved and later revoked at a review."""
    showcase = info.showcase
    wanted = {SHOWCASE_PROPOSED: "PROPOSED", SHOWCASE_REVIEWED: "REVIEWED", SHOWCASE_REJECTED: "REJECTED",
              SHOWCASE_REVOKED: "REVOKED"}.get(showcase)  # fmt: skip
    if wanted is None and rng.random() >= 0.08:
        return
    extra = next(
        c for c in (EXTRA.get(info.archetype, C.DIBAO), C.DIBAO, C.TEKUN, C.ORPHAN) if c not in categories
    )
    worker, reviewer = plan.worker, plan.reviewer
    later = [
        day for day, outcome in plan.reviews if outcome == "CONTINUE" and day > plan.segments[-1][0] + 30
    ]
    if wanted == "REVOKED" and later:
        revoked = later[-1]
        proposed = (revoked - rng.randint(20, 25)) * 1440 + 10 * 60
        changes[revoked] = rng.choice(text.CHANGE_NOTES)
        steps = [("PROPOSE", worker, proposed, "复审时发现"), ("REVIEW", reviewer, proposed + 1440, "材料齐全"),
                 ("APPROVE", plan.approver, proposed + 3 * 1440, "同意"),
                 ("REVOKE", reviewer, revoked * 1440 + 10 * 60, changes[revoked])]  # fmt: skip
    else:
        status = wanted or ("REVIEWED" if rng.random() < 0.4 else "PROPOSED")
        proposed = -rng.randint(3, 40) * 1440 + rng.randint(9 * 60, 17 * 60)
        steps = [("PROPOSE", worker, proposed, "复审时发现")]
        if status == "REVIEWED":
            steps.append(("REVIEW", reviewer, proposed + rng.randint(1, 2) * 1440, "材料齐全"))
        elif status == "REJECTED":
            steps.append(
                ("REJECT", reviewer, proposed + rng.randint(1, 2) * 1440, rng.choice(text.REJECT_NOTES))
            )
    _assignment(world, info, extra, [s for s in steps if s[2] < 0])


def _assignment(world, info, category: Category, steps) -> None:
    from app.services.scale_seed_registry import audit

    if not steps:
        return
    status = {"PROPOSE": "PROPOSED", "REVIEW": "REVIEWED", "APPROVE": "APPROVED", "REJECT": "REJECTED",
              "REVOKE": "REVOKED"}[steps[-1][0]]  # fmt: skip
    assignment = world.w.next_id("category_assignment")
    world.put_assignment((assignment, info.id, category.name, status, steps[0][1], steps[0][2]))
    for action, by, at, note in steps:
        world.put_step((world.w.next_id("approval_step"), assignment, action, by, at, note))
        audit(world, at, by, action.lower(), "category", assignment, info, note=category.value)


def _causes(world, rng, info, worker: int, entry: int) -> None:
    main, other = CAUSES[info.archetype]
    for cause in [main] + ([other] if rng.random() < 0.35 else []):
        world.put_cause((world.w.next_id("hardship_cause"), info.id, cause.name, rng.choice(text.CAUSE_NOTES),
                         worker, entry * 1440 + 14 * 60))  # fmt: skip


def _needs(world, rng, info, worker, closer, start: int, end: int | None, reason: str) -> None:
    from app.services.scale_seed_registry import ARCHETYPES

    offered = [
        code for code in ARCHETYPES[info.archetype][2] if code in world.service_codes
    ] or world.service_codes
    names, weights = zip(*URGENCIES, strict=True)
    for service in rng.sample(offered, min(len(offered), rng.randint(1, 3))):
        need_id = world.w.next_id("need")
        created = (start + rng.randint(0, 3)) * 1440 + rng.randint(9 * 60, 17 * 60)
        if end is None and rng.random() < 0.3 and created < -200 * 1440:
            created = rng.randint(created, -30 * 1440)  # a need found later, at a visit or review
        description = rng.choice(text.NEEDS.get(service, (text.GENERIC_NEED,)))
        urgency = rng.choices(names, weights)[0]
        status, closed, closed_by, note = "OPEN", None, None, ""
        if end is not None:
            status, closed, closed_by, note = "CLOSED", end * 1440 + 10 * 60, closer, reason
        elif rng.random() < 0.25 and created < -90 * 1440:
            status, closed, closed_by, note = (
                "MET",
                rng.randint(created + 60 * 1440, -1440),
                worker,
                rng.choice(text.NEED_MET),
            )
        world.put_need(
            (
                need_id,
                info.id,
                service,
                description,
                urgency,
                status,
                worker,
                created,
                closed,
                closed_by,
                note,
            )
        )
        info.needs.append((need_id, service, urgency, created, closed, description))


def _measures_and_follow_ups(world, rng, info, worker: int, entry: int) -> None:
    w = world.w
    for _ in range(rng.randint(0, 2)):
        day = rng.randint(entry + 7, -1)
        need = rng.choice(info.needs)[0] if info.needs and rng.random() < 0.6 else None
        kind, description = ("MEASURE", rng.choice(text.MEASURES))
        if rng.random() < 0.15:
            kind, description = "NOT_HELPED", rng.choice(text.NOT_HELPED)
        world.put_measure(
            (w.next_id("measure"), info.id, need, kind, description, day, worker, day * 1440 + 15 * 60)
        )
    for _ in range(rng.randint(0, 3)):
        day = rng.randint(entry + 7, -1)
        satisfaction = None if rng.random() < 0.2 else rng.choice((3, 4, 4, 5, 5, 5))
        world.put_follow_up((w.next_id("follow_up"), info.id, day, rng.choice(("VISIT", "PHONE")),
                             rng.choice(text.FOLLOW_UPS), satisfaction, worker, day * 1440 + 16 * 60))  # fmt: skip
