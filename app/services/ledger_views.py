"""Staff views of the books (账户查询): accounts in scope, one account's entries, awards and reversals.

Community workers see the accounts of their community's volunteers (by the
volunteer's grid), of the households of its grids, its community pool and
the partners of its street; street officers the same for their street;
administrators every account, the issuing account and the sink included.
An account outside the reader's scope answers 404 like a missing one.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth_scope import (
    Scope,
    community_ids,
    get_scoped_or_404,
    grid_ids,
    is_valid_id,
    require_role,
    scope_of,
    unscoped_get,
)
from app.extensions import db
from app.models import (
    AccountKind,
    Claim,
    Community,
    Household,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Member,
    Partner,
    Relation,
    Role,
    ServiceType,
    Task,
    TxKind,
    User,
)
from app.services import points, statements
from app.services.errors import NotFound

READERS = (Role.COMMUNITY_WORKER, Role.STREET_OFFICER)
PER_PAGE = 30
RECENT_REVERSALS = 20
KIND_LABELS = {
    AccountKind.VOLUNTEER: _l("Volunteers"),
    AccountKind.HOUSEHOLD: _l("Households"),
    AccountKind.POOL: _l("Community pools"),
    AccountKind.PARTNER: _l("Partners"),
    AccountKind.ISSUE: _l("The issuing account"),
    AccountKind.SINK: _l("Vouchers not yet handed over"),
}


def kind_choices() -> list[tuple[str, str]]:
    """Choices for the account list's filter: every kind, or all."""
    return [("", _("All kinds"))] + [(kind.value, str(KIND_LABELS[kind])) for kind in AccountKind]


def _street_ids(scope: Scope) -> sa.Select:
    if scope.level == "street":
        return sa.select(sa.literal(scope.unit_id))
    if scope.level == "community":
        return sa.select(Community.street_id).where(Community.id == scope.unit_id)
    return sa.select(sa.literal(0)).where(sa.false())


def scope_clause(scope: Scope):
    """A WHERE clause keeping the accounts a reader with `scope` may see."""
    if scope.level == "all":
        return sa.true()
    grids, kind, owner = grid_ids(scope), LedgerAccount.kind, LedgerAccount.owner_id
    return sa.or_(
        sa.and_(kind == AccountKind.VOLUNTEER, owner.in_(sa.select(User.id).where(User.grid_id.in_(grids)))),
        sa.and_(
            kind == AccountKind.HOUSEHOLD,
            owner.in_(sa.select(Household.id).where(Household.grid_id.in_(grids))),
        ),
        sa.and_(kind == AccountKind.POOL, owner.in_(community_ids(scope))),
        sa.and_(
            kind == AccountKind.PARTNER,
            owner.in_(sa.select(Partner.id).where(Partner.street_id.in_(_street_ids(scope)))),
        ),
    )


@dataclass(frozen=True)
class AccountRow:
    account: LedgerAccount
    owner: str  # who the account belongs to, for staff


def accounts_page(actor, kind: AccountKind | None = None, page: int = 1, per_page: int = PER_PAGE):
    """(pagination, rows): the accounts in the actor's scope, by kind then owner.

    Raises Forbidden for anyone but community workers, street officers and administrators.
    """
    require_role(actor, *READERS)
    stmt = sa.select(LedgerAccount).where(scope_clause(scope_of(actor)))
    if kind is not None:
        stmt = stmt.where(LedgerAccount.kind == kind)
    stmt = stmt.order_by(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.id)
    found = db.paginate(
        stmt, page=statements.page_number(page), per_page=per_page, error_out=False, count=True
    )
    accounts = list(found.items)
    owners = owner_labels(accounts)
    return found, [AccountRow(a, owners[a.id]) for a in accounts]


@dataclass(frozen=True)
class AccountView:
    account: LedgerAccount
    owner: str
    balance: int  # cached
    entries_sum: int  # the truth the cache must equal
    lines: list[statements.Line]
    page: object


def parse_kind(value) -> AccountKind:
    """An account kind from a URL part ("volunteer"); NotFound for anything else."""
    try:
        return AccountKind(value)
    except ValueError:
        raise NotFound() from None


def account_view(
    actor, kind: AccountKind, owner_id: int, page: int = 1, per_page: int = PER_PAGE
) -> AccountView:
    """One account in the actor's scope with a page of its entries (like a statement).

    Raises Forbidden (role), NotFound (never opened, or outside the scope).
    """
    require_role(actor, *READERS)
    account = None
    if owner_id == 0 or is_valid_id(owner_id):  # 0: the issue and sink accounts' owner
        account = db.session.scalar(
            sa.select(LedgerAccount).where(
                LedgerAccount.kind == kind, LedgerAccount.owner_id == owner_id, scope_clause(scope_of(actor))
            )
        )
    if account is None:
        raise NotFound()
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account.id
        )
    )
    found, lines = statements.account_lines(account.id, page, per_page)
    return AccountView(
        account, owner_labels([account])[account.id], account.balance, int(total), lines, found
    )


def owner_labels(accounts: list[LedgerAccount]) -> dict[int, str]:
    """account id → its owner's name (one query per kind present)."""
    by_kind: dict[AccountKind, set[int]] = {}
    for account in accounts:
        by_kind.setdefault(account.kind, set()).add(account.owner_id)
    names: dict[tuple[AccountKind, int], str] = {}
    queries = {
        AccountKind.VOLUNTEER: lambda ids: sa.select(User.id, User.name).where(User.id.in_(ids)),
        AccountKind.POOL: lambda ids: sa.select(Community.id, Community.name).where(Community.id.in_(ids)),
        AccountKind.PARTNER: lambda ids: sa.select(Partner.id, Partner.name).where(Partner.id.in_(ids)),
    }
    for kind, query in queries.items():
        if kind in by_kind:
            names.update(((kind, i), name) for i, name in db.session.execute(query(by_kind[kind])))
    if AccountKind.HOUSEHOLD in by_kind:
        rows = db.session.execute(
            sa.select(Household, Member.name)
            .outerjoin(Member, sa.and_(Member.household_id == Household.id, Member.relation == Relation.HEAD))
            .where(Household.id.in_(by_kind[AccountKind.HOUSEHOLD]))
        )
        for household, head in rows:
            names[(AccountKind.HOUSEHOLD, household.id)] = f"{household.address} · {head or '—'}"
    fixed = {kind: str(KIND_LABELS[kind]) for kind in (AccountKind.ISSUE, AccountKind.SINK)}
    labels = {}
    for account in accounts:
        name = fixed.get(account.kind) or names.get((account.kind, account.owner_id), f"#{account.owner_id}")
        if account.kind is AccountKind.POOL:
            name = _("%(community)s community pool", community=name)
        labels[account.id] = name
    return labels


# --- awards and reversals ------------------------------------------------------------------


@dataclass(frozen=True)
class AwardRow:
    award: LedgerTransaction
    volunteer: str
    service: str
    day: str  # local date of the visit
    points: int
    reversal: LedgerTransaction | None


def _awards_in_scope(actor, kind: TxKind) -> sa.Select:
    stmt = sa.select(LedgerTransaction).where(LedgerTransaction.kind == kind)
    scope = scope_of(actor)
    if scope.level != "all":
        stmt = stmt.where(LedgerTransaction.community_id.in_(community_ids(scope)))
    return stmt.order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())


def awards_page(actor, page: int = 1, per_page: int = PER_PAGE):
    """(pagination, rows): recent awards for visits in the actor's community or street, newest first.

    Raises Forbidden for anyone but those who may reverse points.
    """
    require_role(actor, *points.REVERSERS)
    found = db.paginate(
        _awards_in_scope(actor, TxKind.AWARD),
        page=statements.page_number(page),
        per_page=per_page,
        error_out=False,
    )
    return found, _award_rows(list(found.items))


def recent_reversals(actor, limit: int = RECENT_REVERSALS) -> list[tuple[AwardRow, str]]:
    """The latest reversals in scope: (the reversed award's row, who reversed it)."""
    require_role(actor, *points.REVERSERS)
    reversals = db.session.scalars(_awards_in_scope(actor, TxKind.REVERSAL).limit(limit)).all()
    awards = db.session.scalars(
        sa.select(LedgerTransaction).where(LedgerTransaction.id.in_({r.reverses_id for r in reversals}))
    ).all()
    rows = {row.award.id: row for row in _award_rows(list(awards))}
    actors = _names({r.actor_id for r in reversals})
    return [(rows[r.reverses_id], actors.get(r.actor_id, "")) for r in reversals if r.reverses_id in rows]


def _names(user_ids: set[int | None]) -> dict[int, str]:
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).all())


def _award_rows(awards: list[LedgerTransaction]) -> list[AwardRow]:
    if not awards:
        return []
    ids = [a.id for a in awards]
    earned = dict(
        db.session.execute(
            sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.transaction_id.in_(ids), LedgerEntry.amount > 0)
            .group_by(LedgerEntry.transaction_id)
        ).all()
    )
    reversals = {
        r.reverses_id: r
        for r in db.session.scalars(
            sa.select(LedgerTransaction).where(LedgerTransaction.reverses_id.in_(ids))
        )
    }
    names = _names({a.earner_id for a in awards})
    visits = statements.Reasons(awards, None).visits
    return [
        AwardRow(
            award=a,
            volunteer=names.get(a.earner_id, ""),
            service=(visits.get(a.claim_id) or ("", ""))[0],
            day=(visits.get(a.claim_id) or ("", ""))[1],
            points=int(earned.get(a.id) or 0),
            reversal=reversals.get(a.id),
        )
        for a in awards
    ]


@dataclass(frozen=True)
class VisitAward:
    """What the reversal page shows: the visit, its award and arithmetic, and any reversal."""

    claim: Claim
    task: Task
    service: str
    day: date
    volunteer: str
    award: LedgerTransaction | None
    points: int
    arithmetic: str
    reversal: LedgerTransaction | None


def visit_award(actor, claim_id: int) -> VisitAward:
    """The visit behind a reversal page, if it lies in the actor's community or street.

    Raises Forbidden (role) and NotFound (missing or outside the scope).
    """
    require_role(actor, *points.REVERSERS)
    claim = unscoped_get(Claim, claim_id)  # its scope is checked on its task
    if claim is None:
        raise NotFound()
    task = get_scoped_or_404(Task, claim.task_id, actor)
    service = db.session.get(ServiceType, task.service_type_code)
    volunteer = db.session.get(User, claim.volunteer_id)
    award = points.award_of(claim.id)
    earned = 0
    if award is not None:
        earned = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.transaction_id == award.id, LedgerEntry.amount > 0
            )
        )
    return VisitAward(
        claim=claim,
        task=task,
        service=service.name,
        day=clock.local_date(claim.check_in_at or task.starts_at),
        volunteer=volunteer.name,
        award=award,
        points=int(earned),
        arithmetic=statements.award_arithmetic(award.details or {}) if award else "",
        reversal=points.reversal_of(award.id) if award else None,
    )
