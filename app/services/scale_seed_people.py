"""seed-scale: volunteers (4 per household) with skills, free times and how
active each is, and the love teams (爱心团队) of every community."""

from collections import Counter

import sqlalchemy as sa

from app.extensions import db
from app.models import FreeTime, Role, ServiceType, Skill
from app.services import scale_seed_text as text

INACTIVE_SHARE = 0.22  # registered, never took a task
MAX_WEIGHT = 30  # the busiest volunteers take tasks this many times as often as the least busy


def seed_volunteers(world, advance) -> None:
    """Volunteers in the grids where the households are, each with a weight
    (how often they take tasks, heavy-tailed like real volunteering), and
    the pools the task phase draws claimants from: per community and skill."""
    rng, w = world.rng("volunteers"), world.w
    skills = list(db.session.scalars(sa.select(Skill.code).order_by(Skill.position, Skill.code)))
    world.skill_of = dict(db.session.execute(sa.select(ServiceType.code, ServiceType.skill_code)).all())
    db.session.rollback()
    put_skill = w.table("user_skill", ("user_id", "skill_code"))
    put_slot = w.table("volunteer_free_time", ("user_id", "slot"))
    households_in = Counter(h.grid for h in world.households)
    grids = list(world.grids)
    grid_weights = [households_in[g] + 1 for g in grids]
    slots = [slot.name for slot in FreeTime]
    world.vol_ids, world.vol_created, world.vol_community, world.vol_weight = [], [], [], []
    world.pools, world.community_pool = {}, {c: [] for c in world.communities}
    for number in range(world.plan.volunteers):
        grid_id = rng.choices(grids, grid_weights)[0]
        community_id = world.grid_community[grid_id]
        days = rng.randint(730, 1100) if rng.random() < 0.55 else rng.randint(1, 729)
        created = -days * 1440 + rng.randint(8 * 60, 22 * 60)
        user_id = world.users.add(
            text.person_name(rng), created, (Role.VOLUNTEER,), grid=grid_id,
            show_full_name=rng.random() < 0.1, locale="en" if rng.random() < 0.02 else None,
        )  # fmt: skip
        own = rng.sample(skills, min(len(skills), rng.choices((1, 2, 3, 4), (30, 35, 25, 10))[0]))
        for code in own:
            put_skill((user_id, code))
        for slot in rng.sample(slots, rng.randint(1, 4)):
            put_slot((user_id, slot))
        weight = 0 if rng.random() < INACTIVE_SHARE else min(MAX_WEIGHT, int(rng.paretovariate(1.4)))
        index = len(world.vol_ids)
        world.vol_ids.append(user_id)
        world.vol_created.append(created)
        world.vol_community.append(community_id)
        world.vol_weight.append(weight)
        for code in own:
            world.pools.setdefault((community_id, code), []).extend([index] * weight)
        world.community_pool[community_id].extend([index] * weight)
        if number == 0:
            from app.services.scale_seed import Login

            world.logins.append(Login(world.phones[user_id], "volunteer", "the first synthetic volunteer"))
        advance(1)
    _teams(world, rng)


def _teams(world, rng) -> None:
    """Teams of active volunteers in each community: a founder, members who
    joined after both they and the team existed, a few who left."""
    w = world.w
    put_team = w.table(
        "team", ("id", "community_id", "name", "motto", "active", "created_by_id", "created_at")
    )
    put_member = w.table("team_membership", ("id", "team_id", "user_id", "joined_at", "left_at"))
    world.team_of = {}  # volunteer index → team id (current members)
    active_in: dict[int, list[int]] = {c: [] for c in world.communities}
    for index, weight in enumerate(world.vol_weight):
        if weight and world.vol_created[index] < -30 * 1440:
            active_in[world.vol_community[index]].append(index)
    for community_id in world.communities:
        candidates = active_in[community_id]
        rng.shuffle(candidates)
        count = max(1, len(candidates) // 150) if len(candidates) >= 6 else 0
        names = text.distinct_names(rng, text.TEAM_WORDS, count, "队")
        for name in names:
            size = min(len(candidates), rng.randint(6, 30))
            members, candidates[:] = candidates[:size], candidates[size:]
            if not members:
                break
            founder = members[0]
            start = max(world.vol_created[founder], -700 * 1440)
            created = min(start + rng.randint(0, 200) * 1440, -1440)
            team_id = w.next_id("team")
            put_team(
                (team_id, community_id, name, rng.choice(text.MOTTOS), True, world.vol_ids[founder], created)
            )
            for index in members:
                joined = (
                    created
                    if index == founder
                    else max(created, world.vol_created[index]) + rng.randint(0, 100) * 1440
                )
                joined = min(joined, -60)
                left = None
                if index != founder and rng.random() < 0.08 and joined < -2 * 1440:
                    left = rng.randint(joined + 60, -60)
                else:
                    world.team_of[index] = team_id
                put_member((w.next_id("team_membership"), team_id, world.vol_ids[index], joined, left))
