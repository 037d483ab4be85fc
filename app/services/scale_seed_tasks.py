"""seed-scale: one service task's whole life, as of the anchor.

Each task gets an imagined life — posted, claimed (by volunteers of the
household's community with the skill, never two visits a day, never before
they registered), perhaps given back, visited with check-in and check-out
at the door, confirmed by QR, by a family proxy or by the grid worker's
follow-up call; or cancelled, or expired unclaimed or after a no-show —
and then only what happened before the anchor (the start of the as-of day)
is written. So tasks near the anchor are open, claimed, in progress or
awaiting confirmation exactly as the state machine (services.tasks) would
have left them, with one TaskEvent per transition. Confirmed visits go to
the books (scale_seed_ledger) to be paid.

This is the hot loop of seed-scale: statuses are plain names and random
draws use random() arithmetic (random.choices and randint cost ten times more).
"""

from operator import itemgetter

from app.services import scale_seed_text as text
from app.services.scale_seed_ledger import AWARD, RECENT

DAY = 1440
HOLDING = ("ACTIVE", "CHECKED_IN", "CHECKED_OUT", "CONFIRMED")
SOLO = ("repairs", "tutoring", "haircut")  # one volunteer a visit
# Claim row positions (the claim table's columns, then the volunteer's index).
ID, TASK, USER, STATUS, CLAIMED, RELEASED, REASON, IN, OUT = range(9)
EXPIRES, REMINDED, CONFIRMED, VIA, BY, RATING, COMMENT, SATISFACTION, NOTE, FLAGGED, OWNER = range(10, 21)
BY_CLAIMED, BY_IN, BY_OUT, BY_CONFIRMED = (
    itemgetter(CLAIMED),
    itemgetter(IN),
    itemgetter(OUT),
    itemgetter(CONFIRMED),
)
CLAIM_COLUMNS = (
    "id", "task_id", "volunteer_id", "status", "claimed_at", "released_at", "release_reason", "check_in_at",
    "check_out_at", "confirm_nonce", "confirm_expires_at", "reminded_at", "confirmed_at", "confirmed_via",
    "confirmed_by_id", "rating", "comment", "follow_up_satisfaction", "follow_up_note", "flagged",
)  # fmt: skip


def _table(values, weights) -> tuple:
    """A lookup table for weighted draws: table[int(random() * len(table))]."""
    return tuple(v for v, w in zip(values, weights, strict=True) for _ in range(w))


SLOTS = _table((1, 2, 3, 4, 5, 6), (50, 22, 12, 8, 5, 3))  # group visits: day care, meals, visiting
HOURS = _table((8, 9, 10, 14, 15, 16, 19), (10, 20, 15, 15, 20, 10, 10))
WINDOWS = _table((120, 60, 90, 180), (7, 1, 1, 1))
EXPECTED = (60, 90, 120)
RATINGS = _table((5, 4, 3, 2, 1), (70, 20, 7, 2, 1))


class TaskWriter:
    """Writes tasks, their events, claims and waiting lists."""

    def __init__(self, world, books):
        self.world, self.books, self.w = world, books, world.w
        self.rng = world.rng("tasks")
        self.R = self.rng.random
        w = self.w
        self.put_task = w.table(
            "task",
            ("id", "household_id", "grid_id", "need_id", "series_id", "service_type_code", "description",
             "starts_at", "ends_at", "expected_minutes", "slots", "taken", "urgency", "status", "flagged",
             "escalation_level", "created_by_id", "created_at"),
        )  # fmt: skip
        self.put_event = w.table(
            "task_event", ("id", "task_id", "from_status", "to_status", "actor_id", "at", "note")
        )
        self.put_claim = w.table("claim", CLAIM_COLUMNS)
        self.put_wait = w.table("waitlist_entry", ("id", "task_id", "volunteer_id", "created_at"))
        self.next_task, self.next_event = w.counter("task"), w.counter("task_event")
        self.next_claim = w.counter("claim")
        self.busy: set[int] = set()
        self.statuses = world.task_statuses
        # Notifications about a task wait until the task row is written (they refer to it).
        self.later: list[tuple] = []

    def randint(self, low: int, high: int) -> int:
        return low + int(self.R() * (high - low + 1))

    # --- volunteers --------------------------------------------------------------------

    def pick(self, community: int, service: str, day: int, at: int, chosen, any_skill=False):
        """A volunteer of the community with the service's skill, registered before `at`,
        free on `day` and not already on this task; None if none turns up."""
        world, R = self.world, self.R
        pool = None if any_skill else world.pools.get((community, world.skill_of.get(service)))
        pool = pool or world.community_pool[community]
        if not pool:
            return None
        size, created, busy = len(pool), world.vol_created, self.busy
        for _ in range(10 if any_skill else 6):
            index = pool[int(R() * size)]
            key = index << 12 | (day & 4095)
            if created[index] < at and key not in busy and index not in chosen:
                busy.add(key)
                return index
        return None

    def reserve(self, index: int, day: int) -> bool:
        key = index << 12 | (day & 4095)
        if key in self.busy:
            return False
        self.busy.add(key)
        return True

    def claim(self, task_id: int, index: int, at: int, start: int) -> list:
        reminded = start - 120 if at < start - 120 < 0 else None
        return [self.next_claim(), task_id, self.world.vol_ids[index], "ACTIVE", at, None, "", None, None, None,
                None, reminded, None, None, None, None, "", None, "", False, index]  # fmt: skip

    # --- one task ----------------------------------------------------------------------

    def task(self, info, day: int, *, series=None, force: str | None = None) -> None:
        world, R, randint = self.world, self.R, self.randint
        needs = info.needs
        need = needs[int(R() * len(needs))] if needs else None
        service = need[1] if need else world.service_codes[int(R() * len(world.service_codes))]
        if series is not None:
            series_id, service, hour, window, created, paired, need_id = series
            slots, expected = 1, window
        else:
            series_id = paired = None
            hour, window = HOURS[int(R() * 100)], WINDOWS[int(R() * 10)]
            slots = 1 if service in SOLO else SLOTS[int(R() * 100)]
            expected = min(window, EXPECTED[int(R() * 3)])
        start = day * DAY + hour * 60 + (30 if R() < 0.3 else 0)
        if force == "in_progress":  # night care that began the evening before
            start, window, expected, slots = -randint(30, 180), 600, 480, 1
        ends = start + window
        if series is None:
            created = start - randint(DAY, 6 * DAY)
            if created >= 0:
                return  # not posted yet at the anchor
            need_id = (
                need[0] if need and need[3] <= created and (need[4] is None or need[4] > created) else None
            )
        urgency = need[2] if need and need_id == need[0] else "NORMAL"
        task_id = self.next_task()
        creator = world.grid_workers[info.grid][0]
        roll = R() if force is None else 1.0
        events = [(created, None, "OPEN", creator, "")]
        claims: list[list] = []
        flagged = False
        cancel = created + int((start - created) * (0.1 + 0.8 * R())) if roll < 0.03 and series is None else 0
        if cancel < 0:
            self._cancelled(info, task_id, slots, service, day, created, cancel, creator, events, claims)
        elif roll < 0.075 and series is None:
            pass  # nobody takes it
        elif roll < 0.085 and slots == 1 and start + 40 < 0:
            self._no_show(info, task_id, service, day, created, start, ends, events, claims)
        else:
            flagged = self._visited(info, task_id, service, day, slots, created, start, expected, urgency, paired,
                                    events, claims, force)  # fmt: skip
        if not claims and ends + 10 < 0 and events[-1][2] == "OPEN":
            events.append((ends + randint(1, 10), "OPEN", "EXPIRED", None, text.EXPIRED_NOTE))
        self._write(info, task_id, need_id, series_id, service, start, ends, expected, slots, urgency, events,
                    claims, creator, created, flagged)  # fmt: skip

    def _claim_times(self, created: int, start: int, count: int) -> list[int]:
        span = max(10, int((start - created) * 0.8)) - 5
        R = self.R
        return sorted(created + 5 + int(R() * span) for _ in range(count))

    def _visited(self, info, task_id, service, day, slots, created, start, expected, urgency, paired, events,
                 claims, force) -> bool:  # fmt: skip
        """Claims, visits and confirmations as of the anchor; True if a visit was rated low."""
        R, randint = self.R, self.randint
        chosen: list[int] = []
        for at in [created] if paired is not None else self._claim_times(created, start, slots):
            if at >= 0:
                break
            index = paired if paired is not None and self.reserve(paired, day) else None
            if index is None:
                index = self.pick(info.community, service, day, at, chosen, any_skill=force is not None)
            if index is not None:
                chosen.append(index)
                claims.append(self.claim(task_id, index, at, start))
        if force == "in_progress" and chosen:
            self.busy.add(chosen[0] << 12 | ((day + 1) & 4095))  # the night reaches into the next day
        if not claims:
            return False
        if slots == 1 and start < 0 and force is None and R() < 0.03:
            self._released_first(info, task_id, service, day, start, events, claims)
        visits = [c for c in claims if c[STATUS] == "ACTIVE"]
        if len(visits) == slots:
            last = max(visits, key=BY_CLAIMED)
            events.append((last[CLAIMED], "OPEN", "CLAIMED", last[USER], ""))
        flagged = False
        for claim in visits:
            check_in = start + randint(-25, 20)
            if check_in >= 0:
                continue
            claim[STATUS], claim[IN] = "CHECKED_IN", check_in
            check_out = check_in + int(expected * (0.7 + 0.8 * R()))
            if force == "in_progress" or check_out >= 0:
                continue
            claim[STATUS], claim[OUT] = "CHECKED_OUT", check_out
            flagged |= self._confirm(info, claim, check_out, force)
        checked_in = [c for c in visits if c[IN] is not None]
        if checked_in:
            first = min(checked_in, key=BY_IN)
            events.append((first[IN], events[-1][2], "IN_PROGRESS", first[USER], ""))
            if all(c[OUT] is not None for c in visits):
                last = max(visits, key=BY_OUT)
                events.append((last[OUT], "IN_PROGRESS", "AWAITING_CONFIRMATION", last[USER], ""))
                if all(c[CONFIRMED] is not None for c in visits):
                    last = max(visits, key=BY_CONFIRMED)
                    actor = last[BY] if last[VIA] != "QR" else None
                    events.append(
                        (last[CONFIRMED], "AWAITING_CONFIRMATION", "VERIFIED", actor, last[VIA].lower())
                    )
        push = self.books.push  # paid when the confirmation's time comes (the books run in time order)
        for claim in visits:
            if claim[CONFIRMED] is not None:
                push(claim[CONFIRMED], AWARD, claim[ID], claim[OWNER], info.community, task_id, service, urgency,
                     expected, claim[OUT] - claim[IN], claim[IN] // DAY, info)  # fmt: skip
        return flagged

    def _confirm(self, info, claim, check_out, force) -> bool:
        world, R, randint = self.world, self.R, self.randint
        roll = R()
        if force == "awaiting" or roll < 0.12:
            via, at, by = (
                "FOLLOW_UP_CALL",
                check_out + randint(DAY, 3 * DAY),
                world.grid_workers[info.grid][0],
            )
        elif roll < 0.16 and info.proxy is not None:
            via, at, by = "PROXY", check_out + randint(60, DAY), info.proxy
        else:
            via, at, by = "QR", check_out + randint(1, 15), None
            claim[EXPIRES] = check_out + 32  # the single-use link, valid 30 minutes
        if force == "awaiting":
            at = max(at, randint(60, DAY))  # the call is still to be made
        if at >= 0:
            return False
        rating = RATINGS[int(R() * 100)]
        if via == "FOLLOW_UP_CALL":
            claim[NOTE] = text.CALL_NOTES[int(R() * len(text.CALL_NOTES))]
            rating = None if R() < 0.3 else rating
        else:
            notes = text.THANKS if rating >= 3 else text.LOW_RATING_NOTES
            claim[COMMENT] = notes[int(R() * len(notes))]
        claim[STATUS], claim[CONFIRMED], claim[VIA], claim[BY], claim[RATING] = (
            "CONFIRMED",
            at,
            via,
            by,
            rating,
        )
        if rating is not None and rating <= 2:
            claim[FLAGGED] = True
            if at >= RECENT:
                self.later.append((world.grid_workers[info.grid][0], "VISIT_FLAGGED", at, claim[TASK], {}))
            return True
        if R() < 0.04:
            claim[SATISFACTION], claim[NOTE] = (4, 5, 5)[int(R() * 3)], claim[NOTE] or "回访满意"
        return False

    def _released_first(self, info, task_id, service, day, start, events, claims) -> None:
        """The first volunteer gave the place back before the start; another took it."""
        first = claims[0]
        released = first[CLAIMED] + self.randint(10, max(11, (start - first[CLAIMED]) // 2))
        reason = self.rng.choice(text.RELEASE_REASONS)
        first[STATUS], first[RELEASED], first[REASON], first[REMINDED] = "RELEASED", released, reason, None
        events += [
            (first[CLAIMED], "OPEN", "CLAIMED", first[USER], ""),
            (released, "CLAIMED", "OPEN", first[USER], reason),
        ]
        self.later.append(
            (self.world.grid_workers[info.grid][0], "TASK_UNCLAIMED", released, task_id, {"reason": reason})
        )
        again = released + self.randint(5, max(6, int((start - released) * 0.8)))
        index = self.pick(info.community, service, day, again, [first[OWNER]])
        if index is not None:
            claims.append(self.claim(task_id, index, again, start))

    def _cancelled(
        self, info, task_id, slots, service, day, created, cancel, creator, events, claims
    ) -> None:
        """Cancelled before the start by the grid worker; places taken till then are cancelled too."""
        world = self.world
        reason = self.rng.choice(text.CANCEL_REASONS)
        chosen: list[int] = []
        for at in self._claim_times(created, cancel, self.randint(0, slots)):
            index = self.pick(info.community, service, day, at, chosen)
            if index is not None:
                chosen.append(index)
                claims.append(self.claim(task_id, index, at, cancel))
        if claims and len(claims) == slots:
            events.append((claims[-1][CLAIMED], "OPEN", "CLAIMED", claims[-1][USER], ""))
        events.append((cancel, events[-1][2], "CANCELLED", creator, reason))
        for claim in claims:
            claim[STATUS], claim[RELEASED], claim[REASON], claim[REMINDED] = "CANCELLED", cancel, reason, None
            self.later.append((claim[USER], "TASK_CANCELLED", cancel, task_id, {"reason": reason}))
        from app.services.scale_seed_registry import audit

        audit(world, cancel, creator, "cancel", "task", task_id, grid=info.grid, note=reason)

    def _no_show(self, info, task_id, service, day, created, start, ends, events, claims) -> None:
        """Claimed, never checked in: the place released 30 minutes after the start, then expired."""
        at = self._claim_times(created, start, 1)[0]
        index = self.pick(info.community, service, day, at, ())
        if index is None:
            return
        claim = self.claim(task_id, index, at, start)
        released = start + 30 + self.randint(0, 9)
        claim[STATUS], claim[RELEASED], claim[REASON] = "NO_SHOW", released, text.NO_SHOW_NOTE
        claims.append(claim)
        events += [
            (at, "OPEN", "CLAIMED", claim[USER], ""),
            (released, "CLAIMED", "OPEN", None, text.NO_SHOW_NOTE),
        ]
        self.later.append((claim[USER], "CLAIM_RELEASED", released, task_id, {"minutes": 30}))
        if ends + 10 < 0:
            events.append((ends + self.randint(1, 10), "OPEN", "EXPIRED", None, text.EXPIRED_NOTE))

    def _write(self, info, task_id, need_id, series_id, service, start, ends, expected, slots, urgency, events,
               claims, creator, created, flagged) -> None:  # fmt: skip
        status = events[-1][2]
        taken = sum(1 for c in claims if c[STATUS] in HOLDING)
        escalation = 0
        if status == "EXPIRED" and not claims:
            escalation = 2
        elif status == "OPEN" and not taken and start < DAY:
            escalation = 1
        description = None
        if need_id is not None:
            description = next(n[5] for n in info.needs if n[0] == need_id)
        else:
            offered = text.NEEDS.get(service, (text.GENERIC_NEED,))
            description = offered[int(self.R() * len(offered))]
        self.put_task((task_id, info.id, info.grid, need_id, series_id, service, description, start, ends, expected,
                       slots, taken, urgency, status, flagged, escalation, creator, created))  # fmt: skip
        put_event, next_event = self.put_event, self.next_event
        for at, before, after, actor, note in events:
            put_event((next_event(), task_id, before, after, actor, at, note))
        put_claim, notify = self.put_claim, self.books.notify
        for user, kind, at, about, params in self.later:
            notify(user, kind, at, about, **params)
        self.later.clear()
        for claim in claims:
            put_claim(claim)
            if claim[CLAIMED] >= RECENT:
                notify(creator, "TASK_CLAIMED", claim[CLAIMED], task_id)
                if claim[REMINDED] is not None:
                    notify(claim[USER], "REMINDER", claim[REMINDED], task_id)
        if status == "CLAIMED" and self.R() < 0.05:
            at = min(max(c[CLAIMED] for c in claims) + 30, -1)
            index = self.pick(info.community, service, start // DAY, at, [c[OWNER] for c in claims])
            if index is not None:
                self.busy.discard(index << 12 | ((start // DAY) & 4095))  # only waiting: still free that day
                self.put_wait((self.w.next_id("waitlist_entry"), task_id, self.world.vol_ids[index], at))
        self.statuses[status] = self.statuses.get(status, 0) + 1
