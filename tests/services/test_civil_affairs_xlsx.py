"""The civil-affairs ledger workbook (民政台账): each household's row read back
with openpyxl against the database rows the test made, ID numbers masked,
the title rows and layout, scope, and the audit entry."""

from datetime import date
from io import BytesIO

import openpyxl
import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    ApprovalAction,
    AuditEntry,
    Category,
    Cause,
    Community,
    FollowUp,
    FollowUpMethod,
    Grid,
    HardshipCause,
    Household,
    Measure,
    MeasureKind,
    Member,
    Need,
    Relation,
    Role,
    User,
)
from app.services import casework, household_changes, households
from app.services.casework import NeedData
from app.services.civil_affairs_xlsx import COLUMNS, export_civil_affairs_ledger
from app.services.errors import Forbidden, NotFound
from app.services.households import MemberData
from tests.factories import make_household, make_tree, make_user
from tests.services.test_honour import local
from tests.services.test_ledger_xlsx import person_id

TODAY = date(2031, 5, 20)
APPROVED_ON = date(2031, 5, 6)
HEADER_ROW = 3
RELATIONS = {Relation.HEAD: "户主", Relation.SPOUSE: "配偶"}  # the Chinese a civil-affairs office reads
STATUSES = {"active": "在册", "exited": "已退出"}
NEED_STATUSES = {"open": "待解决", "closed": "已关闭"}


def masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


class Street:
    """A street of its own: one community, two grids, a worker at every level.

    Keeps ids only and looks rows up when asked, so one Street serves several
    app contexts (each has its own session)."""

    def __init__(self):
        tree = make_tree("台账")
        self.community_id = tree["community"].id
        self.grid_ids = [grid.id for grid in tree["grids"]]
        self.user_ids = {
            "grid_worker": make_user(Role.GRID_WORKER, grid_id=self.grid_ids[0]).id,
            "community_worker": make_user(Role.COMMUNITY_WORKER, community_id=self.community_id).id,
            "street_officer": make_user(Role.STREET_OFFICER, street_id=tree["street"].id).id,
        }
        self.numbers = iter(range(800, 1000))

    @property
    def community(self):
        return db.session.get(Community, self.community_id)

    @property
    def grids(self):
        return [db.session.get(Grid, grid_id) for grid_id in self.grid_ids]

    def _user(self, key: str):
        return db.session.get(User, self.user_ids[key])

    @property
    def grid_worker(self):
        return self._user("grid_worker")

    @property
    def community_worker(self):
        return self._user("community_worker")

    @property
    def street_officer(self):
        return self._user("street_officer")

    def household(self, n: int, grid=0, *, approve=True, exit_on=None) -> int:
        """A household with two members, a cause, a need, measures of both kinds,
        a follow-up and a category (approved on APPROVED_ON unless told not to)."""
        clock.freeze(local(2031, 5, 1, 9))
        today = clock.today()
        actor = self.grid_worker if grid == 0 else self.community_worker
        home = make_household(actor, self.grid_ids[grid], head_name=f"台账户主{n}", today=today)
        head = next(
            m for m in households.get_household(actor, home.id).members if m.relation is Relation.HEAD
        )
        households.update_member(
            actor,
            head.id,
            MemberData(name=f"台账户主{n}", relation=Relation.HEAD, id_number=person_id(next(self.numbers))),
            today,
        )
        households.add_member(
            actor,
            home.id,
            MemberData(name=f"配偶{n}", relation=Relation.SPOUSE, id_number=person_id(next(self.numbers))),
            today,
        )
        casework.add_cause(actor, home.id, Cause.ILLNESS, f"慢性病{n}")
        casework.add_cause(actor, home.id, Cause.UNEMPLOYMENT)
        casework.add_need(actor, home.id, NeedData("meals", f"每日送餐{n}"))
        casework.add_measure(actor, home.id, MeasureKind.MEASURE, f"联系助餐点{n}", date(2031, 5, 2), TODAY)
        casework.add_measure(actor, home.id, MeasureKind.NOT_HELPED, f"暂缓{n}", date(2031, 5, 3), TODAY)
        casework.add_follow_up(actor, home.id, date(2031, 5, 4), FollowUpMethod.PHONE, f"回访{n}", TODAY, 4)
        assignment = casework.propose_category(actor, home.id, Category.DIBAO)
        if approve:  # reviewed by the community, approved by the street: three people
            casework.decide_category(self.community_worker, assignment.id, ApprovalAction.REVIEW)
            clock.freeze(local(2031, 5, 6, 10))
            casework.decide_category(self.street_officer, assignment.id, ApprovalAction.APPROVE)
        if exit_on:
            clock.freeze(local(2031, 5, 10, 10))
            household_changes.exit_household(
                self.community_worker, home.id, exit_on, "迁出本市", clock.today()
            )
        clock.freeze(local(2031, 5, 20, 15))
        return home.id


@pytest.fixture
def street(db):
    made = Street()
    yield made
    clock.freeze(None)


def read(content: bytes):
    workbook = openpyxl.load_workbook(BytesIO(content))
    return workbook.worksheets[0]


def data_rows(sheet) -> dict[int, dict[str, object]]:
    """Household key → {column key: value} of every data row."""
    out = {}
    for values in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        row = {c.key: v for c, v in zip(COLUMNS, values, strict=True)}
        out[row["household_key"]] = row
    return out


def lines(value) -> list[str]:
    return [] if value in (None, "") else str(value).split("\n")


def expected_row(household_id: int) -> dict[str, object]:
    """The row as the database says it should read, from direct queries."""
    home = db.session.get(Household, household_id)
    members = db.session.scalars(
        sa.select(Member).where(Member.household_id == household_id).order_by(Member.id)
    )
    causes = db.session.scalars(
        sa.select(HardshipCause).where(HardshipCause.household_id == household_id).order_by(HardshipCause.id)
    )
    needs = db.session.scalars(sa.select(Need).where(Need.household_id == household_id).order_by(Need.id))
    measures = list(
        db.session.scalars(
            sa.select(Measure).where(Measure.household_id == household_id).order_by(Measure.on)
        )
    )
    follow_ups = db.session.scalars(sa.select(FollowUp).where(FollowUp.household_id == household_id))
    cause_words = {Cause.ILLNESS: "疾病", Cause.UNEMPLOYMENT: "失业"}
    head = next(
        m
        for m in db.session.scalars(sa.select(Member).where(Member.household_id == household_id))
        if m.relation is Relation.HEAD
    )
    return {
        "grid": db.session.get(Grid, home.grid_id).name,
        "address": f"{home.building}{home.unit}单元{home.room}",
        "phone": home.contact_phone,
        "head": head.name,
        "status": STATUSES[home.status.value],
        "members": [f"{m.name}（{RELATIONS[m.relation]}）{masked(m.id_number)}" for m in members],
        "causes": [f"{cause_words[c.cause]}：{c.note}" if c.note else cause_words[c.cause] for c in causes],
        "needs": [f"助餐（{NEED_STATUSES[n.status.value]}）：{n.description}" for n in needs],
        "measures": [
            f"{m.on.isoformat()} {m.description}" for m in measures if m.kind is MeasureKind.MEASURE
        ],
        "not_helped": [
            f"{m.on.isoformat()} {m.description}" for m in measures if m.kind is MeasureKind.NOT_HELPED
        ],
        "follow_ups": [f"{f.on.isoformat()} 电话回访（{f.satisfaction}/5）：{f.note}" for f in follow_ups],
    }


def test_every_household_reads_as_in_the_database(street):
    ids = [
        street.household(1),
        street.household(2),
        street.household(3, grid=1, approve=False),
        street.household(4, exit_on=date(2031, 5, 9)),
    ]
    report = export_civil_affairs_ledger(street.community_worker, street.community.id)
    sheet = read(report.content)
    rows = data_rows(sheet)
    assert sorted(rows) == sorted(ids) and report.households == 4
    assert [rows[i]["number"] for i in ids] == [1, 2, 4, 3]  # by grid, then household
    for household_id in ids:
        row, want = rows[household_id], expected_row(household_id)
        for key in ("grid", "address", "phone", "head", "status"):
            assert row[key] == want[key], key
        for key in ("members", "causes", "needs", "measures", "not_helped", "follow_ups"):
            assert lines(row[key]) == want[key], key
    assert lines(rows[ids[0]]["categories"]) == [f"低保 · 已批准 · {APPROVED_ON.isoformat()}"]
    assert lines(rows[ids[2]]["categories"]) == ["低保 · 待社区审核"]  # proposed, not yet reviewed
    assert lines(rows[ids[3]]["categories"]) == [
        f"低保 · 已撤销 · {APPROVED_ON.isoformat()}"
    ]  # revoked on exit


def test_id_numbers_are_masked_everywhere(street):
    street.household(1)
    content = export_civil_affairs_ledger(street.community_worker, street.community.id).content
    full = list(
        db.session.scalars(
            sa.select(Member.id_number)
            .join(Household)
            .where(Household.grid_id.in_([g.id for g in street.grids]))
        )
    )
    assert len(full) == 2
    cells = [str(c) for row in read(content).iter_rows(values_only=True) for c in row if c is not None]
    for number in full:
        assert not any(number in cell for cell in cells)
        assert any(masked(number) in cell for cell in cells)


def test_title_rows_and_layout(street):
    street.household(1)
    sheet = read(export_civil_affairs_ledger(street.community_worker, street.community.id).content)
    assert sheet["A1"].value.startswith(street.community.name)
    assert TODAY.isoformat() in sheet["A2"].value and street.community_worker.name in sheet["A2"].value
    assert [c.value for c in sheet[HEADER_ROW]] == [c.header for c in COLUMNS]
    assert sheet[HEADER_ROW][0].value == "序号 No." and sheet[HEADER_ROW][7].value.startswith("家庭成员")
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert sheet.column_dimensions["H"].width == 38
    assert sheet.cell(row=HEADER_ROW + 1, column=8).alignment.wrap_text
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:N1", "A2:N2"}


def test_scope(street):
    street.household(1)
    street.household(2, grid=1, approve=False)
    own = data_rows(read(export_civil_affairs_ledger(street.grid_worker, street.community.id).content))
    assert {db.session.get(Household, key).grid_id for key in own} == {street.grids[0].id}  # the grid only
    assert (
        len(data_rows(read(export_civil_affairs_ledger(street.street_officer, street.community.id).content)))
        == 2
    )
    other = make_tree("别处")
    outsider = make_user(Role.COMMUNITY_WORKER, community_id=other["community"].id)
    for community_id in (street.community.id, 2_000_000_000, 0):
        with pytest.raises(NotFound):
            export_civil_affairs_ledger(outsider, community_id)
    with pytest.raises(Forbidden):
        export_civil_affairs_ledger(
            make_user(Role.VOLUNTEER, grid_id=street.grids[0].id), street.community.id
        )


def test_export_is_audited_without_values(street):
    street.household(1)
    export_civil_affairs_ledger(street.community_worker, street.community.id)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.object_type == "civil_affairs_ledger"))
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "export",
        street.community.id,
        street.community_worker.id,
    )
    assert entry.note == "1 households" and "台账户主" not in entry.note
