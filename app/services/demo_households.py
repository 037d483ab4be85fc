"""Demo households for `seed-demo`: every hardship category, each in two or
more grids, with members, finances, needs and casework — made through the
real services, so the demo obeys the same rules as real data."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ApprovalAction,
    Category,
    CategoryAssignment,
    CategoryStatus,
    Cause,
    City,
    FollowUpMethod,
    Household,
    MeasureKind,
    Relation,
    Schooling,
    Urgency,
    WorkCapacity,
)
from app.services import casework, household_changes, households, standards
from app.services.accounts import find_by_phone
from app.services.eligibility import add_months
from app.services.idcard import check_digit

DEMO_STANDARD_FEN = 78700  # 787 yuan a month, Weihai's urban standard (seed 002)


def demo_id(region: str, birth: date, sequence: int, male: bool) -> str:
    """A checksum-valid ID number for demo people (region codes are real, people are not)."""
    seq = f"{sequence % 100:02d}{(1 if male else 2) + (sequence % 4) * 2}"
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + check_digit(first17)


@dataclass
class DemoMember:
    name: str
    relation: Relation
    birth: date
    male: bool
    work: WorkCapacity = WorkCapacity.FULL
    illness: bool | None = None
    disability: int | None = None
    schooling: Schooling = Schooling.NONE


@dataclass
class DemoHousehold:
    grid: int  # 1-based index into the demo grids
    building: str
    room: str
    members: list[DemoMember]
    approved: list[Category] = field(default_factory=list)
    proposed: list[Category] = field(default_factory=list)
    reviewed: list[Category] = field(default_factory=list)
    consent: bool = True
    lives_alone: bool = False
    income_stable: bool = False
    monthly_income: int | None = None  # fen a month for the last 12 months
    monthly_rigid: int = 0  # fen a month, illness
    causes: list[Cause] = field(default_factory=list)
    needs: list[tuple[str, str, Urgency]] = field(default_factory=list)
    recorded_days_ago: int = 30
    served_days_ago: int | None = None


M, F = True, False
HOUSEHOLDS = [
    DemoHousehold(
        1,
        "3号楼",
        "101",
        [DemoMember("孙桂兰", Relation.HEAD, date(1942, 3, 8), F, WorkCapacity.NONE)],
        approved=[Category.ELDERLY_ALONE, Category.ELDERLY_80],
        lives_alone=True,
        causes=[Cause.OLD_AGE],
        recorded_days_ago=200,
        needs=[
            ("visiting", "独居，希望每周有人上门陪伴聊天", Urgency.URGENT),
            ("housekeeping", "厨房和卫生间需要打扫", Urgency.NORMAL),
        ],
    ),
    DemoHousehold(
        1,
        "3号楼",
        "202",
        [
            DemoMember("王建军", Relation.HEAD, date(1968, 7, 2), M, WorkCapacity.PARTIAL, True),
            DemoMember("张红", Relation.SPOUSE, date(1970, 1, 19), F, WorkCapacity.NONE, disability=2),
            DemoMember(
                "王磊", Relation.CHILD, date(2011, 9, 1), M, WorkCapacity.NONE, schooling=Schooling.JUNIOR
            ),
        ],
        approved=[Category.DIBAO, Category.SEVERE_DISABILITY],
        monthly_income=90000,
        monthly_rigid=60000,
        causes=[Cause.ILLNESS, Cause.DISABILITY],
        served_days_ago=20,
        needs=[("tutoring", "孩子初二，数学需要辅导", Urgency.NORMAL)],
    ),
    DemoHousehold(
        1,
        "5号楼",
        "301",
        [
            DemoMember("陈志强", Relation.HEAD, date(1975, 5, 5), M),
            DemoMember("林芳", Relation.SPOUSE, date(1977, 4, 4), F),
            DemoMember(
                "陈晨", Relation.CHILD, date(2008, 2, 2), F, WorkCapacity.NONE, schooling=Schooling.SENIOR
            ),
        ],
        approved=[Category.MARGINAL, Category.INCOME_TYPE],
        income_stable=True,
        monthly_income=300000,
        monthly_rigid=20000,
        causes=[Cause.UNEMPLOYMENT],
        served_days_ago=45,
        needs=[("repairs", "卫生间水管漏水", Urgency.URGENT)],
    ),
    DemoHousehold(
        2,
        "7号楼",
        "102",
        [
            DemoMember("刘奶奶", Relation.HEAD, date(1950, 6, 6), F, WorkCapacity.NONE),
            DemoMember(
                "刘小宇",
                Relation.GRANDCHILD,
                date(2015, 10, 10),
                M,
                WorkCapacity.NONE,
                schooling=Schooling.PRIMARY,
            ),
        ],
        approved=[Category.ORPHAN, Category.CHILD_IN_DIFFICULTY],
        causes=[Cause.NO_LABOUR],
        needs=[("tutoring", "小宇三年级，需要课后作业辅导", Urgency.NORMAL)],
    ),
    DemoHousehold(
        2,
        "7号楼",
        "401",
        [DemoMember("李淑芬", Relation.HEAD, date(1944, 12, 1), F, WorkCapacity.NONE, True)],
        approved=[Category.TEKUN, Category.ELDERLY_80],
        lives_alone=True,
        causes=[Cause.ILLNESS, Cause.OLD_AGE],
        recorded_days_ago=120,
        needs=[("medical_escort", "每月去医院复查，需要陪同", Urgency.CRITICAL)],
    ),
    DemoHousehold(
        2,
        "8号楼",
        "203",
        [
            DemoMember("吴秀珍", Relation.HEAD, date(1966, 8, 8), F, WorkCapacity.PARTIAL, True),
            DemoMember("吴斌", Relation.CHILD, date(1994, 3, 3), M),
        ],
        approved=[Category.EXPENDITURE_TYPE],
        monthly_income=300000,
        monthly_rigid=460000,
        causes=[Cause.ILLNESS],
        served_days_ago=10,
        needs=[("meals", "化疗期间需要送餐", Urgency.URGENT)],
    ),
    DemoHousehold(
        3,
        "1号楼",
        "101",
        [DemoMember("冯桂英", Relation.HEAD, date(1939, 9, 9), F, WorkCapacity.NONE)],
        approved=[Category.ELDERLY_ALONE, Category.TEKUN],
        lives_alone=True,
        causes=[Cause.OLD_AGE],
        needs=[("day_care", "白天无人照看，希望去日间照料中心", Urgency.URGENT)],
    ),
    DemoHousehold(
        3,
        "2号楼",
        "502",
        [
            DemoMember("郑国庆", Relation.HEAD, date(1972, 10, 1), M),
            DemoMember("钱丽", Relation.SPOUSE, date(1974, 11, 11), F, WorkCapacity.PARTIAL),
        ],
        approved=[Category.INCOME_TYPE, Category.MARGINAL],
        income_stable=True,
        monthly_income=200000,
        causes=[Cause.UNEMPLOYMENT],
        served_days_ago=60,
        needs=[("errands", "需要帮忙代购米面油", Urgency.NORMAL)],
    ),
    DemoHousehold(
        3,
        "2号楼",
        "103",
        [
            DemoMember("何晓梅", Relation.HEAD, date(1985, 1, 1), F, WorkCapacity.PARTIAL),
            DemoMember(
                "何乐乐", Relation.CHILD, date(2016, 6, 1), M, WorkCapacity.NONE, schooling=Schooling.PRIMARY
            ),
        ],
        approved=[Category.DIBAO, Category.CHILD_IN_DIFFICULTY],
        monthly_income=60000,
        causes=[Cause.DISASTER],
    ),
    DemoHousehold(
        4,
        "9号楼",
        "601",
        [
            DemoMember("周大海", Relation.HEAD, date(1960, 2, 2), M, WorkCapacity.NONE, disability=1),
            DemoMember("周敏", Relation.CHILD, date(1990, 5, 20), F),
        ],
        approved=[Category.SEVERE_DISABILITY, Category.EXPENDITURE_TYPE],
        monthly_income=250000,
        monthly_rigid=400000,
        causes=[Cause.DISABILITY],
        served_days_ago=100,
        needs=[("care", "需要协助翻身和洗浴", Urgency.CRITICAL)],
    ),
    DemoHousehold(
        4,
        "9号楼",
        "102",
        [
            DemoMember(
                "马小军", Relation.HEAD, date(2010, 4, 4), M, WorkCapacity.NONE, schooling=Schooling.JUNIOR
            )
        ],
        approved=[Category.ORPHAN],
        proposed=[Category.CHILD_IN_DIFFICULTY],
        consent=False,
        needs=[("tutoring", "初一，英语跟不上", Urgency.NORMAL)],
    ),
    DemoHousehold(
        4,
        "10号楼",
        "201",
        [DemoMember("杨老伯", Relation.HEAD, date(1941, 1, 15), M, WorkCapacity.NONE)],
        approved=[Category.ELDERLY_80],
        reviewed=[Category.ELDERLY_ALONE],
        lives_alone=True,
        recorded_days_ago=150,
    ),
]

REGIONS = ["371002", "371003", "371082", "371083"]  # Weihai districts
GRID_WORKERS = {1: "13800000003", 2: "13800000013"}  # demo grid → its grid worker
COMMUNITY_WORKERS = {1: "13800000002", 2: "13800000012"}  # demo community → its worker


def seed_demo_households(grid_ids: list[int], today: date) -> int:
    """Create the demo households that are missing; returns how many were made."""
    city = db.session.scalar(sa.select(City).order_by(City.id))
    admin = find_by_phone("13800000000")
    if standards.standard_in_force(city.id, today) is None:
        standards.set_standard(
            admin, standards.StandardData(city.id, date(today.year, 1, 1), DEMO_STANDARD_FEN)
        )
    made = 0
    for number, spec in enumerate(HOUSEHOLDS):
        grid_id = grid_ids[spec.grid - 1]
        exists = db.session.scalar(
            sa.select(Household.id).where(
                Household.grid_id == grid_id, Household.building == spec.building, Household.room == spec.room
            )
        )
        if exists is None:
            _make(spec, grid_id, number, admin, today)
            made += 1
    return made


def _make(spec: DemoHousehold, grid_id: int, number: int, admin, today: date) -> None:
    recorded = today - timedelta(days=spec.recorded_days_ago)
    region = REGIONS[number % len(REGIONS)]

    def member_data(i: int, m: DemoMember) -> households.MemberData:
        return households.MemberData(
            name=m.name,
            relation=m.relation,
            id_number=demo_id(region, m.birth, number * 10 + i, m.male) if spec.consent else None,
            birth_date=None if spec.consent else m.birth,
            serious_illness=m.illness if spec.consent else None,
            disability_grade=m.disability if spec.consent else None,
            work_capacity=m.work,
            schooling=m.schooling,
        )

    data = households.HouseholdData(
        grid_id=grid_id,
        building=spec.building,
        room=spec.room,
        contact_phone=f"1390000{number:04d}",
        lives_alone=spec.lives_alone,
        income_stable=spec.income_stable,
    )
    consent = (
        households.ConsentData(recorded, "身份证号、健康和收入信息，用于帮扶和复审") if spec.consent else None
    )
    head, *others = spec.members
    household = households.create_household(admin, data, member_data(0, head), recorded, consent=consent)
    for i, member in enumerate(others, start=1):
        households.add_member(admin, household.id, member_data(i, member), recorded)
    if spec.monthly_income is not None:
        month = today.replace(day=1)
        for back in range(1, 13):
            household_changes.set_monthly_finance(
                admin,
                household.id,
                add_months(month, -back),
                spec.monthly_income,
                spec.monthly_rigid,
                0,
                0,
                today,
            )
    # Three different people, as the rules demand: proposed by the grid's
    # worker (the admin where the demo has none), reviewed by the community,
    # approved by the street.
    proposer = find_by_phone(GRID_WORKERS.get(spec.grid, "13800000000"))
    reviewer = find_by_phone(COMMUNITY_WORKERS[(spec.grid + 1) // 2])
    approver = find_by_phone("13800000001")
    for category in spec.approved + spec.reviewed + spec.proposed:
        assignment = casework.propose_category(proposer, household.id, category, "入户核实")
        if category in spec.approved or category in spec.reviewed:
            casework.decide_category(reviewer, assignment.id, ApprovalAction.REVIEW, "材料齐全")
        if category in spec.approved:
            casework.decide_category(approver, assignment.id, ApprovalAction.APPROVE, "同意")
    for cause in spec.causes:
        casework.add_cause(admin, household.id, cause)
    for code, text, urgency in spec.needs:
        casework.add_need(admin, household.id, casework.NeedData(code, text, urgency))
    if spec.served_days_ago is not None:
        served = today - timedelta(days=spec.served_days_ago)
        casework.add_measure(admin, household.id, MeasureKind.MEASURE, "志愿者上门服务", served, today)
        casework.add_follow_up(
            admin, household.id, served, FollowUpMethod.PHONE, "电话回访，表示满意", today, 5
        )


def demo_category_grids() -> dict[Category, set[int]]:
    """Grids in which each category is approved (for checks and tests)."""
    rows = db.session.execute(
        sa.select(CategoryAssignment.category, Household.grid_id)
        .join(Household, Household.id == CategoryAssignment.household_id)
        .where(CategoryAssignment.status == CategoryStatus.APPROVED)
    )
    found: dict[Category, set[int]] = {}
    for category, grid_id in rows:
        found.setdefault(category, set()).add(grid_id)
    return found
