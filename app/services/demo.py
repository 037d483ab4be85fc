"""Demo data for development and testing (`flask seed-demo`); idempotent."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import City, Community, Grid, Partner, Role, Skill, Street, User
from app.services.accounts import create_user, find_by_phone
from app.services.demo_bank import PARTNER_NAME, seed_demo_bank
from app.services.demo_history import seed_demo_history
from app.services.demo_households import seed_demo_households
from app.services.demo_supply import seed_demo_supply
from app.services.demo_tasks import clock_at, seed_demo_tasks
from app.services.demo_teams import seed_demo_teams

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoLogin:
    phone: str
    name: str
    role: Role
    unit: str  # "street", "community:1", "grid:1" … (index into the demo tree)
    note: str


DEMO_LOGINS = [
    DemoLogin("13800000000", "平台管理员", Role.ADMIN, "", "administrator"),
    DemoLogin("13800000001", "赵建国", Role.STREET_OFFICER, "street", "street officer of the demo street"),
    DemoLogin(
        "13800000002", "李秀英", Role.COMMUNITY_WORKER, "community:1", "community worker of community 1"
    ),
    DemoLogin(
        "13800000012", "黄志华", Role.COMMUNITY_WORKER, "community:2", "community worker of community 2"
    ),
    DemoLogin("13800000003", "张明华", Role.GRID_WORKER, "grid:1", "grid worker of grid 1 (community 1)"),
    DemoLogin("13800000013", "陈静", Role.GRID_WORKER, "grid:2", "grid worker of grid 2 (community 1)"),
    DemoLogin("13800000004", "王小明", Role.VOLUNTEER, "grid:1", "volunteer in community 1"),
    DemoLogin("13800000014", "刘洋", Role.VOLUNTEER, "grid:2", "a second volunteer in community 1"),
    DemoLogin("13800000024", "郑晓燕", Role.VOLUNTEER, "grid:1", "volunteer with visits in every state"),
    DemoLogin("13800000034", "欧阳明华", Role.VOLUNTEER, "grid:2", "volunteer with months of past visits"),
    DemoLogin("13800000044", "吴海燕", Role.VOLUNTEER, "grid:1", "volunteer with past visits and a gap"),
    DemoLogin("13800000005", "孙桂兰", Role.RESIDENT, "grid:1", "resident of a household in grid 1"),
    DemoLogin("13800000006", "周记便利店", Role.PARTNER, "", "partner merchant"),
]

DEMO_TREE = {
    "city": "示范市",
    "street": "幸福街道",
    "communities": [
        ("阳光社区", ["第一网格", "第二网格"]),
        ("和谐社区", ["第一网格", "第二网格"]),
    ],
}

VOLUNTEER_SKILLS = {
    "13800000004": ["housekeeping", "repairs", "visiting"],
    "13800000014": ["tutoring", "errands", "medical_escort"],
    "13800000024": ["visiting", "housekeeping", "meals", "medical_escort"],
    "13800000034": ["visiting", "repairs", "errands"],
    "13800000044": ["housekeeping", "haircut"],
}


def _get_or_create(model, **fields):
    obj = db.session.scalar(sa.select(model).filter_by(**fields))
    if obj is None:
        obj = model(**fields)
        db.session.add(obj)
        db.session.flush()
    return obj


def seed_demo() -> list[DemoLogin]:
    """Create the demo tree and logins where missing; commit. Returns the logins.

    Run twice, it changes nothing: every row is looked up before it is made.
    """
    city = _get_or_create(City, name=DEMO_TREE["city"])
    street = _get_or_create(Street, city_id=city.id, name=DEMO_TREE["street"])
    units: dict[str, dict] = {"street": {"street_id": street.id}}
    grid_number = 0
    for number, (community_name, grid_names) in enumerate(DEMO_TREE["communities"], start=1):
        community = _get_or_create(Community, street_id=street.id, name=community_name)
        units[f"community:{number}"] = {"community_id": community.id}
        for grid_name in grid_names:
            grid_number += 1
            grid = _get_or_create(Grid, community_id=community.id, name=grid_name)
            units[f"grid:{grid_number}"] = {"grid_id": grid.id}
    grid_ids = [units[f"grid:{n}"]["grid_id"] for n in range(1, grid_number + 1)]
    for login in DEMO_LOGINS:
        if find_by_phone(login.phone) is None:
            codes = VOLUNTEER_SKILLS.get(login.phone, [])
            skills = db.session.scalars(sa.select(Skill).where(Skill.code.in_(codes))).all()
            create_user(
                login.name,
                login.phone,
                DEMO_PASSWORD,
                [login.role],
                skills=skills,
                **units.get(login.unit, {}),
            )
    db.session.commit()
    seed_demo_households(grid_ids, clock.today())
    _link_resident()
    community_1 = units["community:1"]["community_id"]
    with clock_at(clock.now() - timedelta(days=200)):  # the team is older than its history
        seed_demo_teams(community_1, [find_by_phone("13800000024"), find_by_phone("13800000034")])
    seed_demo_history(grid_ids[0])  # the past first, so the ledger runs in time order
    seed_demo_tasks(grid_ids[0])
    seed_demo_bank(street.id, community_1, find_by_phone("13800000002"), find_by_phone("13800000006"))
    shop = db.session.scalar(
        sa.select(Partner).where(Partner.street_id == street.id, Partner.name == PARTNER_NAME)
    )
    seed_demo_supply(shop, find_by_phone("13800000006"), find_by_phone("13800000034"))
    return DEMO_LOGINS


def database_is_empty() -> bool:
    """True when no user exists yet (make run seeds the demo then)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _link_resident() -> None:
    """The demo resident's account is the householder of her household in grid 1."""
    from app.models import Member

    resident = find_by_phone("13800000005")
    member = db.session.scalar(
        sa.select(Member).where(Member.name == resident.name, Member.user_id.is_(None))
    )
    if member is not None and resident.grid_id is not None:
        member.user_id = resident.id
        db.session.commit()
