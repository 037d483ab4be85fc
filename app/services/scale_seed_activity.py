"""seed-scale: the weekly rhythm of the city — how many tasks each household
gets each week, weekly visit series with a paired volunteer (一帮一结对),
and, at the anchor, a few visits under way and awaiting confirmation, so
every task state is there whatever the size. The books run after each
week, in time order."""

import math
from collections import defaultdict

from app.services import scale_seed_text as text
from app.services.scale_seed import FUTURE_DAYS, HISTORY_DAYS
from app.services.scale_seed_family import ELDERLY
from app.services.scale_seed_tasks import DAY, TaskWriter

TASKS_PER_HOUSEHOLD_WEEK = 1.42  # on average; a household's own weight scales it
SERIES_SHARE = 0.1  # of elderly households, paired with one volunteer
SERIES_LENGTH = 26
BLOCK_WEEKS = 8  # occurrences a series posts at once (services.series.MAX_OCCURRENCES)


def week_count() -> int:
    return (HISTORY_DAYS + FUTURE_DAYS) // 7


def _poisson(rng, mean: float) -> int:
    """A Poisson draw: Knuth's product of uniforms, a normal approximation for large means."""
    if mean > 60:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _task_days(rng, households, rates, first_day: int, weeks: int) -> list[list]:
    """(household, day) of every ordinary task posted for days in the `weeks`
    weeks from `first_day`, by week; a household's tasks are a Poisson process
    at its rate while it is in the registry (drawn per block of weeks: cheaper
    than a draw per household and week)."""
    last_day = first_day + 7 * weeks
    by_week: list[list] = [[] for _ in range(weeks)]
    random = rng.random
    for info, rate in zip(households, rates, strict=True):
        for a, b in info.spans:
            low, high = max(a, first_day), min(b, last_day)
            if low < high:
                for _ in range(_poisson(rng, rate * (high - low) / 7)):
                    day = low + int(random() * (high - low))
                    by_week[(day - first_day) // 7].append((info, day))
    return by_week


def seed_activity(world, books, advance) -> None:
    rng = world.rng("activity")
    writer = TaskWriter(world, books)
    households = world.households
    mean = sum(h.weight for h in households) / len(households)
    rates = [h.weight / mean * TASKS_PER_HOUSEHOLD_WEEK for h in households]
    series = _plan_series(world, rng)
    carried: set[int] = set()
    first, total = -HISTORY_DAYS, week_count()
    for block in range(0, total, BLOCK_WEEKS):
        weeks = min(BLOCK_WEEKS, total - block)
        task_days = _task_days(rng, households, rates, first + 7 * block, weeks)
        for week in range(block, block + weeks):
            start = first + 7 * week
            writer.busy.clear()
            writer.busy |= carried
            for info, day, plan in series.get(week, ()):
                writer.task(info, day, series=plan)
            if start <= -1 < start + 7:
                _current(world, rng, writer)
                carried = {key for key in writer.busy if (key & 4095) == 0}  # night visits reach into day 0
            for info, day in task_days[week - block]:
                writer.task(info, day)
            books.run_until(min(0, (start + 7) * DAY))
            advance(1)
    books.run_until(0)


def _current(world, rng, writer) -> None:
    """Visits under way at the anchor (night care that began the evening before)
    and visits awaiting the grid worker's follow-up call, at least one of each."""
    candidates = [h for h in world.households if any(a <= -1 < b for a, b in h.spans)]
    rng.shuffle(candidates)
    size = world.plan.households
    wanted = {"in_progress": max(1, size // 150), "awaiting": max(1, size // 200)}
    goal = {"in_progress": "IN_PROGRESS", "awaiting": "AWAITING_CONFIRMATION"}
    for force, count in wanted.items():
        made = 0
        for info in candidates[: count * 8]:
            before = writer.statuses.get(goal[force], 0)
            writer.task(info, -1, force=force)
            made += writer.statuses.get(goal[force], 0) - before
            if made >= count:
                break
        candidates = candidates[count * 8 :] or candidates


def _plan_series(world, rng) -> dict[int, list]:
    """Weekly visit series of elderly households with a paired volunteer, each
    posting its occurrences at once, renewed after they run out; → week → occurrences."""
    put_series = world.w.table(
        "task_series",
        ("id", "household_id", "need_id", "service_type_code", "every_days", "first_starts_at", "duration_minutes",
         "until", "paired_volunteer_id", "note", "active", "created_by_id", "created_at"),
    )  # fmt: skip
    plans: dict[int, list] = defaultdict(list)
    for info in world.households:
        if info.archetype not in ELDERLY or info.spans[-1][1] < FUTURE_DAYS or rng.random() >= SERIES_SHARE:
            continue
        service = "visiting" if "visiting" in world.service_codes else world.service_codes[0]
        day = max(info.spans[-1][0], -HISTORY_DAYS) + rng.randint(0, 120)
        hour, window = rng.choice((9, 10, 15)), rng.choice((90, 120))
        paired = None
        pool = (
            world.pools.get((info.community, world.skill_of.get(service)))
            or world.community_pool[info.community]
        )
        while day < FUTURE_DAYS:
            created = (day - rng.randint(1, 3)) * DAY + rng.randint(9 * 60, 17 * 60)
            if created >= 0:
                break
            if paired is None or rng.random() < 0.2:  # a new pair now and then
                tries = [pool[int(rng.random() * len(pool))] for _ in range(6)] if pool else []
                paired = next((i for i in tries if world.vol_created[i] < created), None)
            days = [d for d in range(day, day + 7 * SERIES_LENGTH, 7) if d < FUTURE_DAYS]
            need = next(
                (
                    n
                    for n in info.needs
                    if n[1] == service and n[3] <= created and (n[4] is None or n[4] > created)
                ),
                None,
            )
            series_id = world.w.next_id("task_series")
            put_series(
                (series_id, info.id, need[0] if need else None, service, 7, days[0] * DAY + hour * 60, window,
                 days[-1], world.vol_ids[paired] if paired is not None else None, rng.choice(text.NEEDS[service]) if
                 service in text.NEEDS else "", True, world.grid_workers[info.grid][0], created)
            )  # fmt: skip
            plan = (series_id, service, hour, window, created, paired, need[0] if need else None)
            for occurrence in days:
                plans[(occurrence + HISTORY_DAYS) // 7].append((info, occurrence, plan))
            if rng.random() >= 0.6:
                break
            day = days[-1] + 7
    return plans
