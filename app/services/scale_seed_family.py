"""seed-scale: the people of a household by its archetype — ages, work
capacity, illness, disability, schooling — their member rows with encrypted
ID numbers, and the household's monthly finances."""

from dataclasses import dataclass
from datetime import date

from app.crypto import blind_index, encrypt
from app.models import Relation, Schooling, WorkCapacity
from app.services import scale_seed_text as text
from app.services.eligibility import add_months

NONE, PARTIAL, FULL = WorkCapacity.NONE, WorkCapacity.PARTIAL, WorkCapacity.FULL
ELDERLY = ("elder_alone", "elder_couple", "tekun")


@dataclass
class Person:
    name: str
    relation: Relation
    birth: date
    male: bool
    work: WorkCapacity = FULL
    illness: bool = False
    disability: int | None = None
    schooling: Schooling = Schooling.NONE


def _birth(rng, today: date, age: int) -> date:
    return date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))


def _schooling(age: int) -> Schooling:
    for limit, level in ((3, Schooling.NONE), (6, Schooling.PRESCHOOL), (12, Schooling.PRIMARY),
                         (15, Schooling.JUNIOR), (18, Schooling.SENIOR), (22, Schooling.UNIVERSITY)):  # fmt: skip
        if age < limit:
            return level
    return Schooling.NONE


def people_of(rng, today: date, archetype: str) -> tuple[list[Person], bool, bool]:
    """The members of a household of this archetype, and (lives alone, income stable)."""
    head_name = text.person_name(rng, elder=archetype in ELDERLY)
    surname = head_name[:2] if head_name[:2] in text.COMPOUND_SURNAMES else head_name[0]

    def person(relation, age, work=FULL, same_name=True, **more) -> Person:
        name = surname + text.person_name(rng)[1:] if same_name else text.person_name(rng)
        male = rng.random() < 0.5
        return Person(name, relation, _birth(rng, today, age), male, work, schooling=_schooling(age), **more)

    def child(relation=Relation.CHILD, low=3, high=17) -> Person:
        return person(relation, rng.randint(low, high), NONE if rng.random() < 0.9 else PARTIAL)

    if archetype == "elder_alone":
        head = Person(head_name, Relation.HEAD, _birth(rng, today, rng.randint(68, 96)), rng.random() < 0.4,
                      NONE, illness=rng.random() < 0.3)  # fmt: skip
        return [head], True, False
    if archetype == "elder_couple":
        age = rng.randint(65, 92)
        head = Person(
            head_name, Relation.HEAD, _birth(rng, today, age), True, NONE, illness=rng.random() < 0.3
        )
        return [head, person(Relation.SPOUSE, age - rng.randint(0, 5), NONE, same_name=False)], False, True
    if archetype == "tekun":
        head = Person(head_name, Relation.HEAD, _birth(rng, today, rng.randint(45, 80)), rng.random() < 0.6, NONE,
                      illness=rng.random() < 0.5, disability=rng.choice((None, None, 1, 2)))  # fmt: skip
        return [head], True, False
    if archetype == "children":
        if rng.random() < 0.3:
            head = Person(head_name, Relation.HEAD, _birth(rng, today, rng.randint(13, 17)), rng.random() < 0.5,
                          NONE, schooling=_schooling(15))  # fmt: skip
            return [head], True, False
        head = Person(
            head_name, Relation.HEAD, _birth(rng, today, rng.randint(58, 80)), rng.random() < 0.5, NONE
        )
        kids = [child(Relation.GRANDCHILD, 4, 16) for _ in range(rng.randint(1, 2))]
        return [head, *kids], False, False
    age = rng.randint(30, 65)
    head = Person(
        head_name, Relation.HEAD, _birth(rng, today, age), rng.random() < 0.55, rng.choice((FULL, PARTIAL))
    )
    members = [head]
    if archetype == "disability":
        head.work, head.disability = NONE, rng.choice((1, 1, 2, 2, 3))
    if archetype == "expenditure":
        head.illness = True
    if rng.random() < 0.7:
        members.append(
            person(Relation.SPOUSE, age + rng.randint(-5, 5), rng.choice((FULL, PARTIAL, NONE)), False)
        )
    if archetype != "disability" or rng.random() < 0.5:
        members += [child() for _ in range(rng.randint(1 if archetype == "dibao_family" else 0, 2))]
    if rng.random() < 0.1:
        members.append(person(Relation.PARENT, age + rng.randint(22, 30), NONE))
    return members, False, archetype == "marginal" or rng.random() < 0.3


def put_member(world, rng, household_id: int, p: Person, region: str, consent: bool, user_id) -> None:
    times = world.times
    birth = times.days_of(p.birth)
    sex = "MALE" if p.male else "FEMALE"
    if consent:
        number = world.id_numbers.make(region, p.birth, p.male)
        secret, index, last4, area = encrypt(number), blind_index(number), number[-4:], region
        illness, disability = p.illness, p.disability
    else:
        secret = index = last4 = area = illness = disability = None
        if rng.random() < 0.3:
            birth = None
    world.put_member(
        (world.w.next_id("member"), household_id, p.name, p.relation.name, user_id, secret, index, last4, area,
         birth, sex, illness, disability, p.work.name, p.schooling.name)
    )  # fmt: skip


def put_finances(world, rng, household_id: int, archetype: str, size: int, entry: int, worker: int):
    """Twelve months of income and rigid expenses (fen) for households whose
    categories depend on them; returns (members, months, income, rigid) for
    the eligibility rules, or None when none are kept."""
    standard = world.standard_fen
    if archetype == "marginal":
        per_head, rigid_share = rng.uniform(1.05, 1.9), rng.uniform(0.0, 0.5)
    elif archetype == "expenditure":
        per_head, rigid_share = rng.uniform(1.1, 3.0), rng.uniform(1.6, 2.6)
    elif archetype in ("dibao_family", "tekun", "disability") or rng.random() < 0.2:
        per_head, rigid_share = rng.uniform(0.0, 0.9), rng.uniform(0.0, 1.0)
    else:
        return None
    this_month = world.as_of.replace(day=1)
    months = [add_months(this_month, -k) for k in range(1, 13)]
    months = [m for m in months if world.times.days_of(m) >= entry - 365]
    total_income = total_rigid = 0
    for month in months:
        income = int(size * standard * per_head * rng.uniform(0.95, 1.05)) // 100 * 100
        rigid = int(income * rigid_share * rng.uniform(0.95, 1.05)) // 100 * 100
        illness = rigid if archetype != "dibao_family" else rigid // 2
        schooling = rigid - illness
        day = world.times.days_of(month)
        recorded = min(day + 35, -1) * 1440 + rng.randint(9 * 60, 17 * 60)
        world.put_finance((world.w.next_id("monthly_finance"), household_id, day, income, illness, 0, schooling,
                           worker, recorded))  # fmt: skip
        total_income, total_rigid = total_income + income, total_rigid + rigid
    return (size, len(months), total_income, total_rigid) if months else None
