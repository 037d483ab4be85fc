"""seed-scale: the points books, kept as the services keep them.

Every point movement is an operation with a time; operations run in time
order (a heap), so a balance is never spent before it was earned: awards
for confirmed visits (points.compute_award does the arithmetic, with the
rate and policy in force on the visit's day), a few reversals (taking back
at most what the volunteer still holds), redemptions (stock reserved,
points to the sink, a voucher), hand-overs (sink to the partner), refunds
of cancelled or expired vouchers (item back to stock, points back) and
donations to a community pool or a household served. Keys, reasons,
details and entry order are those the services write. Balances and
versions are counted here and written at the end (scale_seed_finish).
"""

import heapq
from bisect import bisect_right
from types import SimpleNamespace

import sqlalchemy as sa

from app.extensions import db
from app.models import AccountKind, LedgerAccount, PointPolicy, PointRate, Rounding, Urgency
from app.services import scale_seed_text as text
from app.services.points import compute_award
from app.services.privacy import mask_name
from app.services.visits import CODE_ALPHABET, CODE_LENGTH
from app.services.vouchers import LIFETIME

DAY = 1440
RECENT = -14 * DAY  # notifications are made for the last two weeks only
AWARD, REVERSAL, REDEEM, HANDOVER, REFUND, DONATION = range(6)
REVERSAL_SHARE = 0.004
SPEND_SHARE = 0.16  # after an award, the volunteer goes shopping this often
DONATION_SHARE = 0.03
VOUCHER_DAYS = LIFETIME.days


class Books:
    """Accounts, balances, the operations waiting to run, and the rows they write."""

    def __init__(self, world):
        self.world, self.w = world, world.w
        self.rng = world.rng("ledger")
        w = self.w
        self.put_account = w.table(
            "ledger_account", ("id", "kind", "owner_id", "balance", "version", "created_at")
        )
        self.put_tx = w.table(
            "ledger_transaction",
            ("id", "key", "kind", "reason", "actor_id", "created_at", "claim_id", "earner_id", "community_id",
             "voucher_id", "reverses_id", "details"),
        )  # fmt: skip
        self.put_entry = w.table(
            "ledger_entry", ("id", "transaction_id", "account_id", "amount", "created_at")
        )
        self.next_tx, self.next_entry = w.counter("ledger_transaction"), w.counter("ledger_entry")
        self.put_voucher = w.table(
            "voucher",
            ("id", "reward_id", "holder_id", "price", "code", "nonce", "status", "issued_at", "expires_at",
             "closed_at", "used_by_id"),
        )  # fmt: skip
        world.put_notification = w.table(
            "notification", ("id", "user_id", "kind", "params", "task_id", "created_at", "read_at")
        )
        self.accounts: dict[tuple[str, int], int] = {}
        self.balance: dict[int, int] = {}
        self.version: dict[int, int] = {}
        self.created: dict[int, int | None] = {}
        self.issue = self._existing(AccountKind.ISSUE)
        self.sink = self._existing(AccountKind.SINK)
        self.heap: list = []
        self.seq = 0
        self.codes: set[str] = set()
        self.cache: dict = {}
        self._load_rules()
        self.vouchers = 0

    # --- accounts and postings ---------------------------------------------------------

    def _existing(self, kind: AccountKind) -> int:
        row = db.session.execute(
            sa.select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.version).where(
                LedgerAccount.kind == kind, LedgerAccount.owner_id == 0
            )
        ).first()
        db.session.rollback()
        if row is None:
            account_id = self.account(kind.name, 0, -1100 * DAY)
        else:
            account_id = row.id
            self.accounts[(kind.name, 0)] = account_id
            self.balance[account_id], self.version[account_id], self.created[account_id] = (
                row[1],
                row[2],
                None,
            )
        return account_id

    def account(self, kind: str, owner: int, minute: int) -> int:
        """The account of an owner, opened (written) on first use, as ledger.account does."""
        key = (kind, owner)
        account_id = self.accounts.get(key)
        if account_id is None:
            account_id = self.accounts[key] = self.w.next_id("ledger_account")
            self.balance[account_id] = self.version[account_id] = 0
            self.created[account_id] = minute
            self.put_account((account_id, kind, owner, 0, 0, minute))
        return account_id

    def post(self, kind: str, key: str, reason: str, postings, minute: int, actor=None, claim=None, earner=None,
             community=None, voucher=None, reverses=None, details: str = "{}") -> int:  # fmt: skip
        tx = self.next_tx()
        self.put_tx(
            (tx, key, kind, reason[:300], actor, minute, claim, earner, community, voucher, reverses, details)
        )
        put_entry, next_entry, balance, version = self.put_entry, self.next_entry, self.balance, self.version
        for account_id, amount in postings:
            put_entry((next_entry(), tx, account_id, amount, minute))
            balance[account_id] += amount
            version[account_id] += 1
        return tx

    def notify(self, user_id: int, kind: str, minute: int, task_id=None, **params) -> None:
        if minute < RECENT:
            return
        read = minute + self.rng.randint(30, 3 * DAY)
        self.world.put_notification(
            (self.w.next_id("notification"), user_id, kind, text.dump_json(params), task_id, minute,
             read if read < 0 and self.rng.random() < 0.7 else None)
        )  # fmt: skip

    # --- the operations, in time order ------------------------------------------------

    def push(self, minute: int, op: int, *payload) -> None:
        if minute < 0:
            self.seq += 1
            heapq.heappush(self.heap, (minute, self.seq, op, payload))

    def run_until(self, minute: int) -> None:
        """Apply every waiting operation timed before `minute`."""
        handlers = (self._award, self._reverse, self._redeem, self._handover, self._refund, self._donate)
        heap = self.heap
        while heap and heap[0][0] < minute:
            at, _seq, op, payload = heapq.heappop(heap)
            handlers[op](at, *payload)

    # --- awards and reversals ---------------------------------------------------------

    def _load_rules(self) -> None:
        rates = db.session.scalars(
            sa.select(PointRate).order_by(PointRate.effective_from, PointRate.id)
        ).all()
        policies = db.session.scalars(
            sa.select(PointPolicy).order_by(PointPolicy.effective_from, PointPolicy.id)
        ).all()
        times = self.world.times
        self.rates: dict[str, tuple[list[int], list]] = {}
        for rate in rates:
            days, rows = self.rates.setdefault(rate.service_type_code, ([], []))
            days.append(times.days_of(rate.effective_from))
            rows.append(SimpleNamespace(id=rate.id, points_per_visit=rate.points_per_visit,
                                        points_per_hour=rate.points_per_hour))  # fmt: skip
        self.policy_days = [times.days_of(p.effective_from) for p in policies]
        self.policies = [
            SimpleNamespace(
                id=p.id,
                urgent_bonus=p.urgent_bonus,
                critical_bonus=p.critical_bonus,
                daily_cap=p.daily_cap,
                rounding=Rounding(p.rounding),
            )  # fmt: skip
            for p in policies
        ]
        db.session.rollback()

    def _points(self, service: str, urgency: str, expected: int, worked: int, day: int) -> tuple[int, str]:
        """The award and its details (JSON) for a visit begun on local `day`:
        the newest rate and policy in force that day (the newest row wins a tie)."""
        days, rows = self.rates.get(service, ([], []))
        i = bisect_right(days, day)
        rate = rows[i - 1] if i else None
        policy = self.policies[bisect_right(self.policy_days, day) - 1]
        key = (rate.id if rate else None, policy.id, service, urgency, expected, worked)
        found = self.cache.get(key)
        if found is None:
            task = SimpleNamespace(
                expected_minutes=expected, service_type_code=service, urgency=Urgency[urgency]
            )
            moment = self.world.times.moment
            claim = SimpleNamespace(check_in_at=moment(0), check_out_at=moment(worked))
            award = compute_award(
                task, claim, rate, policy, 0
            )  # one visit a volunteer a day: nothing earned before
            found = self.cache[key] = (award.points, text.dump_json(award.details))
        return found

    def _award(
        self, at, claim_id, volunteer, community, task_id, service, urgency, expected, worked, day, household
    ):
        world, rng = self.world, self.rng
        user = world.vol_ids[volunteer]
        points, details = self._points(service, urgency, expected, worked, day)
        earner = self.account("VOLUNTEER", user, at)
        tx = self.post("AWARD", f"award:visit:{claim_id}", f"visit {claim_id}", [(self.issue, -points), (earner, points)],
                       at, claim=claim_id, earner=user, community=community, details=details)  # fmt: skip
        if at >= RECENT:
            self.notify(user, "VISIT_CONFIRMED", at, task_id, points=points)
        roll = rng.random()
        if roll < REVERSAL_SHARE:
            self.push(
                at + rng.randint(DAY, 14 * DAY), REVERSAL, tx, claim_id, volunteer, household, task_id, points
            )
        elif roll < REVERSAL_SHARE + SPEND_SHARE:
            self.push(at + rng.randint(DAY // 2, 20 * DAY), REDEEM, volunteer)
        elif roll < REVERSAL_SHARE + SPEND_SHARE + DONATION_SHARE:
            self.push(at + rng.randint(10, 3 * DAY), DONATION, volunteer, household)

    def _reverse(self, at, award_tx, claim_id, volunteer, household, task_id, awarded) -> None:
        world, rng = self.world, self.rng
        community = household.community
        user = world.vol_ids[volunteer]
        earner = self.accounts[("VOLUNTEER", user)]
        taken = min(awarded, self.balance[earner])
        actor = rng.choice(world.community_workers[community])
        reason = rng.choice(text.REVERSAL_REASONS)
        details = text.dump_json({"awarded": awarded, "taken_back": taken, "shortfall": awarded - taken})
        tx = self.post("REVERSAL", f"reversal:{award_tx}", reason, [(earner, -taken), (self.issue, taken)], at,
                       actor=actor, claim=claim_id, earner=user, community=community, reverses=award_tx,
                       details=details)  # fmt: skip
        from app.services.scale_seed_registry import audit

        audit(
            world,
            at,
            actor,
            "reverse_points",
            "claim",
            claim_id,
            grid=household.grid,
            note=f"transaction {tx}",
        )
        self.notify(user, "POINTS_REVERSED", at, task_id, points=awarded, reason=reason)

    # --- the bank: vouchers and donations ---------------------------------------------

    def _redeem(self, at, volunteer) -> None:
        """Spend points on one affordable reward on offer in the volunteer's community, if any."""
        world, rng = self.world, self.rng
        user = world.vol_ids[volunteer]
        earner = self.accounts[("VOLUNTEER", user)]
        balance, day = self.balance[earner], at // DAY
        offers = [o for o in world.rewards_for[world.vol_community[volunteer]]
                  if o[0] <= balance and o[2] <= day and (o[3] is None or o[3] >= day)]  # fmt: skip
        if not offers:
            return
        price, reward_id, _from, until = rng.choice(offers)
        if world.stock[reward_id] < 1:
            from app.services.scale_seed_org import receive

            receive(world, reward_id, rng.randint(20, 50), world.reward_author[reward_id], at - 1, "补货")
        voucher_id = self.w.next_id("voucher")
        code = self._code()
        expires = at + VOUCHER_DAYS * DAY
        if until is not None:
            expires = min(expires, (until + 1) * DAY)
        roll = rng.random()
        if roll < 0.80:
            outcome, closes = "USED", at + rng.randint(60, 10 * DAY)
        elif roll < 0.86:
            outcome, closes = "CANCELLED", at + rng.randint(60, 5 * DAY)
        else:
            outcome, closes = "EXPIRED", expires
        if closes >= expires:  # not collected (or given back) before it ran out
            outcome, closes = "EXPIRED", expires
        name = world.reward_name[reward_id]
        if closes < 0:
            used_by = world.partner_user[world.partner_of_reward[reward_id]] if outcome == "USED" else None
            self.put_voucher(
                (voucher_id, reward_id, user, price, code, None, outcome, at, expires, closes, used_by)
            )
            op = HANDOVER if outcome == "USED" else REFUND
            self.push(closes, op, voucher_id, reward_id, volunteer, price, code, outcome)
        else:
            nonce = text.token(rng, 16, text.URLSAFE)
            self.put_voucher(
                (voucher_id, reward_id, user, price, code, nonce, "ISSUED", at, expires, None, None)
            )
        world.put_movement((self.w.next_id("stock_movement"), reward_id, "REDEEMED", -1, voucher_id,
                            f"voucher {code}", user, at))  # fmt: skip
        world.stock[reward_id] -= 1
        self.post("REDEMPTION", f"redeem:voucher:{voucher_id}", f"redeemed {name} (voucher {code})",
                  [(earner, -price), (self.sink, price)], at, actor=user, voucher=voucher_id)  # fmt: skip
        self.vouchers += 1

    def _code(self) -> str:
        while True:
            code = text.token(self.rng, CODE_LENGTH, CODE_ALPHABET)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _handover(self, at, voucher_id, reward_id, volunteer, price, code, _outcome) -> None:
        world = self.world
        partner = world.partner_of_reward[reward_id]
        account = self.account("PARTNER", partner, at)
        self.post("HANDOVER", f"handover:voucher:{voucher_id}", f"handed over {world.reward_name[reward_id]} (voucher {code})",
                  [(self.sink, -price), (account, price)], at, actor=world.partner_user[partner], voucher=voucher_id)  # fmt: skip

    def _refund(self, at, voucher_id, reward_id, volunteer, price, code, outcome) -> None:
        world = self.world
        user = world.vol_ids[volunteer]
        why = "expired" if outcome == "EXPIRED" else "cancelled"
        actor = None if why == "expired" else user
        world.put_movement((self.w.next_id("stock_movement"), reward_id, "RETURNED", 1, voucher_id,
                            f"voucher {why}", actor, at))  # fmt: skip
        world.stock[reward_id] += 1
        name = world.reward_name[reward_id]
        self.post("REFUND", f"refund:voucher:{voucher_id}", f"voucher {code} {why}: {name}",
                  [(self.sink, -price), (self.accounts[("VOLUNTEER", user)], price)], at, actor=actor,
                  voucher=voucher_id)  # fmt: skip
        if why == "expired":
            self.notify(user, "VOUCHER_CLOSED", at, reward=name, points=price, why=why)

    def _donate(self, at, volunteer, household) -> None:
        """Give some points to the community pool, or to the household just served if it is still helped."""
        world, rng = self.world, self.rng
        user = world.vol_ids[volunteer]
        earner = self.accounts[("VOLUNTEER", user)]
        amount = min(self.balance[earner], rng.randint(5, 50))
        if amount < 5:
            return
        community = world.vol_community[volunteer]
        day = at // DAY
        if household is not None and rng.random() < 0.3 and any(a <= day < b for a, b in household.spans):
            target = self.account("HOUSEHOLD", household.id, at)
            kind, reason, community_id = (
                "household",
                f"donation to the household of {mask_name(household.head)}",
                None,
            )
            target_household = household.id
        else:
            target = self.account("POOL", community, at)
            kind, reason, community_id = (
                "pool",
                f"donation to the pool of {world.community_names[community]}",
                community,
            )
            target_household = None
        request_key = text.token(rng, 24, text.URLSAFE)
        details = text.dump_json({"target": kind, "household_id": target_household, "amount": amount})
        self.post("DONATION", f"donation:{user}:{request_key}", reason, [(earner, -amount), (target, amount)], at,
                  actor=user, community=community_id, details=details)  # fmt: skip
