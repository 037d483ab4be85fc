"""seed-scale: the city, its streets, communities and grids, their staff,
the city standard, and the partners with their rewards and first stock."""

import sqlalchemy as sa

from app.extensions import db
from app.models import City, MovementKind, PartnerKind, Role
from app.services import scale_seed_text as text

STANDARD_FEN = 78_700  # 787 yuan a month, Weihai's urban standard (seed 002)


class Users:
    """Writes user accounts with their roles, all with the one password hash."""

    COLUMNS = (
        "id", "name", "phone", "password_hash", "auth_epoch", "active", "locale", "show_full_name",
        "failed_logins", "created_at", "street_id", "community_id", "grid_id",
    )  # fmt: skip

    def __init__(self, world):
        self.world = world
        self.put_user = world.w.table("user_account", self.COLUMNS)
        self.put_role = world.w.table("user_role", ("user_id", "role"))

    def add(
        self, name: str, created: int, roles: tuple[Role, ...], *, street=None, community=None, grid=None,
        show_full_name: bool = False, locale: str | None = None,
    ) -> int:  # fmt: skip
        world = self.world
        user_id = world.w.next_id("user_account")
        phone = world.phone()
        world.phones[user_id] = phone
        self.put_user(
            (user_id, name, phone, world.password_hash, 0, True, locale, show_full_name, 0, created,
             street, community, grid)
        )  # fmt: skip
        for role in roles:
            self.put_role((user_id, role.name))
        return user_id


def _city_name() -> str:
    taken = set(db.session.scalars(sa.select(City.name)))
    db.session.rollback()  # hold no transaction: SQLite lets one writer in at a time
    name, n = "滨海市", 1
    while name in taken:
        n += 1
        name = f"滨海市{n}"
    return name


def seed_org(world, advance) -> None:
    """City, standard, streets, communities, grids; an administrator and the
    staff of every unit: 2 street officers, 2 community workers, 1–2 grid workers."""
    rng, w, plan = world.rng("org"), world.w, world.plan
    users = world.users = Users(world)
    created = -1100 * 1440 + 9 * 60  # three years before the as-of day
    world.city_id = w.next_id("city")
    w.table("city", ("id", "name"))((world.city_id, _city_name()))
    world.admin_id = users.add("平台管理员", created, (Role.ADMIN,))
    world.logins.append(_login(world, world.admin_id, "admin", "administrator"))
    standard_from = world.times.days_of(world.as_of.replace(year=world.as_of.year - 3, month=1, day=1))
    w.table(
        "city_standard",
        ("id", "city_id", "effective_from", "monthly_amount", "marginal_upper_pct", "income_upper_pct",
         "expenditure_upper_pct", "rigid_ratio_pct", "created_by_id", "created_at"),
    )((w.next_id("city_standard"), world.city_id, standard_from, STANDARD_FEN, 200, 200, 500, 150,
       world.admin_id, created))  # fmt: skip
    world.standard_fen = STANDARD_FEN

    put_street = w.table("street", ("id", "city_id", "name"))
    put_community = w.table("community", ("id", "street_id", "name"))
    put_grid = w.table("grid", ("id", "community_id", "name"))
    world.streets, world.communities, world.grids = [], [], []
    world.community_street, world.grid_community, world.community_names = {}, {}, {}
    for name in text.distinct_names(rng, text.STREET_WORDS, plan.streets, "街道"):
        street_id = w.next_id("street")
        put_street((street_id, world.city_id, name))
        world.streets.append(street_id)
    per_street = _spread(plan.communities, plan.streets)
    for street_id, count in zip(world.streets, per_street, strict=True):
        for name in text.distinct_names(rng, text.COMMUNITY_WORDS, count, "社区"):
            community_id = w.next_id("community")
            put_community((community_id, street_id, name))
            world.communities.append(community_id)
            world.community_names[community_id] = name
            world.community_street[community_id] = street_id
    per_community = _spread(plan.grids, plan.communities)
    for community_id, count in zip(world.communities, per_community, strict=True):
        for number in range(1, count + 1):
            grid_id = w.next_id("grid")
            put_grid((grid_id, community_id, f"第{number}网格"))
            world.grids.append(grid_id)
            world.grid_community[grid_id] = community_id

    world.street_officers = {
        s: [users.add(text.person_name(rng), created, (Role.STREET_OFFICER,), street=s) for _ in range(2)]
        for s in world.streets
    }
    world.community_workers = {
        c: [
            users.add(text.person_name(rng), created, (Role.COMMUNITY_WORKER,), community=c) for _ in range(2)
        ]
        for c in world.communities
    }
    world.grid_workers = {
        g: [
            users.add(text.person_name(rng), created, (Role.GRID_WORKER,), grid=g)
            for _ in range(2 if rng.random() < 0.1 else 1)
        ]
        for g in world.grids
    }
    first_street, first_community, first_grid = world.streets[0], world.communities[0], world.grids[0]
    world.logins += [
        _login(world, world.street_officers[first_street][0], "street_officer", "street officer of street 1"),
        _login(world, world.community_workers[first_community][0], "community_worker", "of community 1"),
        _login(world, world.grid_workers[first_grid][0], "grid_worker", "grid worker of grid 1"),
    ]
    advance(1)


def _login(world, user_id: int, role: str, note: str):
    from app.services.scale_seed import Login

    return Login(world.phones[user_id], role, note)


def _spread(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts differing by at most one."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def seed_partners(world, advance) -> None:
    """Partners in every street (a user each to scan vouchers), rewards in every
    community and street-wide ones, each with a first delivery of stock."""
    rng, w = world.rng("partners"), world.w
    put_partner = w.table(
        "partner",
        ("id", "name", "kind", "street_id", "contact_name", "contact_phone", "active", "created_by_id", "created_at"),
    )  # fmt: skip
    put_partner_user = w.table("partner_user", ("partner_id", "user_id"))
    put_reward = w.table(
        "reward",
        ("id", "partner_id", "community_id", "name", "description", "point_price", "stock", "valid_from",
         "valid_until", "active", "created_by_id", "created_at"),
    )  # fmt: skip
    world.put_movement = w.table(
        "stock_movement",
        ("id", "reward_id", "kind", "quantity", "voucher_id", "note", "actor_id", "created_at"),
    )
    created = -900 * 1440 + 10 * 60
    world.partner_of_reward, world.reward_price, world.reward_name, world.stock = {}, {}, {}, {}
    world.partner_user, world.reward_author = {}, {}
    world.rewards_for = {c: [] for c in world.communities}  # community → rewards on offer there
    kinds = list(PartnerKind)
    for street_id in world.streets:
        officer = world.street_officers[street_id][0]
        communities = [c for c in world.communities if world.community_street[c] == street_id]
        partners = []
        for number in range(max(2, len(communities) // 2)):
            kind = kinds[number % len(kinds)] if number < len(kinds) else rng.choice(kinds)
            shop = rng.choice(text.PARTNER_KINDS[kind.name])
            partner_id = w.next_id("partner")
            put_partner(
                (partner_id, f"{rng.choice(text.COMMUNITY_WORDS)}{shop}{number + 1}号", kind.name, street_id,
                 text.person_name(rng), world.phone(), True, officer, created)
            )  # fmt: skip
            user_id = world.users.add(text.person_name(rng), created, (Role.PARTNER,))
            put_partner_user((partner_id, user_id))
            world.partner_user[partner_id] = user_id
            partners.append(partner_id)
        if street_id == world.streets[0]:
            world.logins.append(_login(world, world.partner_user[partners[0]], "partner", "scans vouchers"))
        offers = [(c, world.community_workers[c][0], 3) for c in communities] + [(None, officer, 2)]
        for community_id, author, count in offers:
            for name, description, price in rng.sample(text.REWARDS, count):
                reward_id = w.next_id("reward")
                partner_id = rng.choice(partners)
                # A few offers ran out of date a while ago: still listed, no longer redeemable.
                until = -rng.randint(30, 300) if rng.random() < 0.08 else None
                put_reward(
                    (reward_id, partner_id, community_id, name, description, price, 0, -800, until, True,
                     author, created)
                )  # fmt: skip
                world.partner_of_reward[reward_id] = partner_id
                world.reward_price[reward_id], world.reward_name[reward_id] = price, name
                world.stock[reward_id] = 0
                world.reward_author[reward_id] = author
                receive(world, reward_id, rng.randint(30, 80), author, created, "首批到货")
                for target in communities if community_id is None else [community_id]:
                    world.rewards_for[target].append((price, reward_id, -800, until))
    for offers in world.rewards_for.values():
        offers.sort()
    advance(1)


def receive(world, reward_id: int, quantity: int, actor: int, minute: int, note: str) -> None:
    """Goods in: a RECEIVED movement, stock up."""
    row = (
        world.w.next_id("stock_movement"),
        reward_id,
        MovementKind.RECEIVED.name,
        quantity,
        None,
        note,
        actor,
        minute,
    )
    world.put_movement(row)
    world.stock[reward_id] += quantity
