"""Notifications through one interface: stored for the in-app centre, then
handed to the configured senders (development logs them; an SMS or WeChat
sender can be added to SENDERS later without touching callers).

The centre renders each notification's text when it is read, in the
reader's language, from its kind, its params and its task (service type and
local start time, loaded for a whole page in one query).
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.extensions import db
from app.models import Notification, NotificationKind, NotificationPreference, Role, ServiceType, Task

log = logging.getLogger(__name__)

# Each sender gets the stored notification after it is flushed.
SENDERS: list[Callable[[Notification], None]] = [
    lambda n: log.info("notification %s to user %s (task %s)", n.kind.value, n.user_id, n.task_id)
]

K = NotificationKind
# What each kind is about, for the settings page.
KIND_LABELS = {
    K.INVITATION: _l("A grid worker invites me to a task"),
    K.TASK_CLAIMED: _l("A volunteer claims one of my tasks"),
    K.TASK_UNCLAIMED: _l("A volunteer gives back a place on one of my tasks"),
    K.TASK_CANCELLED: _l("A task I claimed is cancelled"),
    K.SLOT_OFFERED: _l("I get a place from the waiting list"),
    K.VISIT_CONFIRMED: _l("The resident confirms my visit"),
    K.CLAIM_RELEASED: _l("My place is given back because the visit did not start"),
    K.VISIT_FLAGGED: _l("A follow-up finds a visit unsatisfactory"),
    K.REMINDER: _l("Reminders before a visit"),
    K.POINTS_REVERSED: _l("Points of my visit are taken back"),
    K.VOUCHER_CLOSED: _l("A voucher of mine expires or is cancelled"),
    K.TASK_ESCALATED: _l("A task in my area is still unclaimed shortly before it starts"),
    K.REVIEWS_DUE: _l("Each Monday: the household reviews due this week and overdue"),
}
# Who receives which kinds: volunteers the first group, task creators (staff) the second.
VOLUNTEER_KINDS = (
    K.INVITATION,
    K.SLOT_OFFERED,
    K.TASK_CANCELLED,
    K.REMINDER,
    K.VISIT_CONFIRMED,
    K.CLAIM_RELEASED,
    K.POINTS_REVERSED,
    K.VOUCHER_CLOSED,
)
STAFF_KINDS = (K.TASK_CLAIMED, K.TASK_UNCLAIMED, K.VISIT_FLAGGED, K.TASK_ESCALATED, K.REVIEWS_DUE)


def wants(user_id: int, kind: NotificationKind) -> bool:
    """False if the user turned this kind off."""
    enabled = db.session.scalar(
        sa.select(NotificationPreference.enabled).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    )
    return enabled is not False


def notify(user_id: int, kind: NotificationKind, task_id: int | None = None, **params) -> Notification | None:
    """Queue a notification in the caller's transaction (the caller commits).

    Params are stored as data and rendered in the reader's language later;
    never put personal details of a household in them.
    """
    if not wants(user_id, kind):
        return None
    notification = Notification(user_id=user_id, kind=kind, task_id=task_id, params=params)
    db.session.add(notification)
    db.session.flush()
    for send in SENDERS:
        send(notification)
    return notification


# --- rendering ----------------------------------------------------------------------


def task_facts(task_ids: Iterable[int | None]) -> dict[int, tuple[str, datetime]]:
    """task id → (service type name in the current language, start), in one query."""
    ids = {task_id for task_id in task_ids if task_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Task.id, Task.starts_at, ServiceType.name_zh, ServiceType.name_en)
        .join(ServiceType, ServiceType.code == Task.service_type_code)
        .where(Task.id.in_(ids))
    )
    english = _is_english()
    return {row.id: (row.name_en if english else row.name_zh, row.starts_at) for row in rows}


def _is_english() -> bool:
    locale = get_locale()
    return bool(locale and locale.language == "en")


def local_time(moment: datetime) -> str:
    """A start time as people here read it: Beijing time, e.g. 2025-03-08 14:30."""
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def notification_text(notification: Notification, facts: dict | None = None) -> str:
    """The notification in the reader's language. `facts` (from task_facts())
    saves a query per notification when rendering a page of them."""
    if facts is None:
        facts = task_facts([notification.task_id])
    params = notification.params or {}
    service, starts = facts.get(notification.task_id, (None, None))
    words = {
        "service": service or _("service"),
        "when": local_time(starts) if starts else _("a date to be agreed"),
        "reason": params.get("reason") or _("none given"),
    }
    kind = notification.kind
    if kind is K.INVITATION:
        return _("You are invited to the %(service)s visit on %(when)s. Claim it if you can come.", **words)
    if kind is K.TASK_CLAIMED:
        return _("A volunteer claimed a place on the %(service)s visit on %(when)s.", **words)
    if kind is K.TASK_UNCLAIMED:
        return _(
            "A volunteer gave back a place on the %(service)s visit on %(when)s. Reason: %(reason)s", **words
        )
    if kind is K.TASK_CANCELLED:
        return _("The %(service)s visit on %(when)s was cancelled. Reason: %(reason)s", **words)
    if kind is K.SLOT_OFFERED and params.get("started"):
        return _(
            "A place came free on the %(service)s visit on %(when)s, which has already begun. You were on "
            "the waiting list, so the place is yours if you can still go; if you cannot, it is given back "
            "after %(minutes)d minutes and does not count against you.",
            minutes=_count(params.get("minutes")) or 30,
            **words,
        )
    if kind is K.SLOT_OFFERED:
        return _(
            "A place came free on the %(service)s visit on %(when)s. You were on the waiting list, "
            "so the place is now yours.",
            **words,
        )
    if kind is K.VISIT_CONFIRMED:
        earned = _count(params.get("points"))
        if earned is not None:
            return _(
                "The resident confirmed your %(service)s visit on %(when)s. Thank you. "
                "You earned %(points)d points.",
                points=earned,
                **words,
            )
        return _("The resident confirmed your %(service)s visit on %(when)s. Thank you.", **words)
    if kind is K.POINTS_REVERSED:
        return _(
            "The %(points)d points of your %(service)s visit on %(when)s were taken back. Reason: %(reason)s",
            points=_count(params.get("points")) or 0,
            **words,
        )
    if kind is K.VOUCHER_CLOSED:
        return _(
            "Your voucher for %(reward)s was closed (%(why)s); its %(points)d points are back in your account.",
            reward=params.get("reward") or _("a reward"),
            why=_("expired") if params.get("why") == "expired" else _("cancelled"),
            points=_count(params.get("points")) or 0,
        )
    if kind is K.CLAIM_RELEASED:
        minutes = params.get("minutes")
        if isinstance(minutes, int) and not isinstance(minutes, bool):
            return _(
                "Your place on the %(service)s visit on %(when)s was given back because nobody "
                "checked in within %(minutes)d minutes of its start.",
                minutes=minutes,
                **words,
            )
        return _(
            "Your place on the %(service)s visit on %(when)s was given back because the visit did not start.",
            **words,
        )
    if kind is K.VISIT_FLAGGED:
        return _(
            "The %(service)s visit on %(when)s needs a look: the follow-up found the household "
            "unsatisfied or recorded a complaint.",
            **words,
        )
    if kind is K.REMINDER:
        return _("Reminder: your %(service)s visit starts on %(when)s.", **words)
    if kind is K.TASK_ESCALATED:
        return _escalation_text(params, words)
    if kind is K.REVIEWS_DUE:
        return _(
            "Reviews: %(due)d due this week, %(overdue)d overdue. Open the list of reviews due.",
            due=_count(params.get("due")) or 0,
            overdue=_count(params.get("overdue")) or 0,
        )
    return str(KIND_LABELS.get(kind, kind.value))


def _escalation_text(params: dict, words: dict) -> str:
    """A task still unclaimed close to its start: level 1 to the grid worker, 2 to the community worker."""
    free = _count(params.get("free")) or 0
    if params.get("level") == 2:
        return ngettext(
            "Urgent: the %(service)s visit on %(when)s starts soon and still has %(num)d free "
            "place. Find a volunteer or change the time.",
            "Urgent: the %(service)s visit on %(when)s starts soon and still has %(num)d free "
            "places. Find a volunteer or change the time.",
            free,
            **words,
        )
    return ngettext(
        "The %(service)s visit on %(when)s still has %(num)d free place. Find a volunteer or change the time.",
        "The %(service)s visit on %(when)s still has %(num)d free places. Find a volunteer or change the time.",
        free,
        **words,
    )


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def render_page(notifications: list[Notification]) -> list[tuple[Notification, str]]:
    """Each notification with its text; one query for the whole page."""
    facts = task_facts(n.task_id for n in notifications)
    return [(n, notification_text(n, facts)) for n in notifications]


# --- the centre -------------------------------------------------------------------------


def notifications_stmt(user) -> sa.Select:
    """The user's notifications, newest first."""
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def unread_count(user) -> int:
    """How many unread notifications a user (or user id) has; 0 for anonymous.

    Also the template helper for the nav bar: `unread_count(current_user)`.
    """
    user_id = user if isinstance(user, int) else getattr(user, "id", None)
    if user_id is None or not getattr(user, "is_authenticated", True):
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_read(user, ids: Iterable[int]) -> int:
    """Mark some of the user's own notifications read; commit. Returns how many changed."""
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return 0
    return _mark(user, Notification.id.in_(ids))


def mark_all_read(user) -> int:
    """Mark every notification of the user read; commit. Returns how many changed."""
    return _mark(user, sa.true())


def _mark(user, clause) -> int:
    changed = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None), clause)
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed


# --- preferences -------------------------------------------------------------------------


def kinds_for(user) -> list[NotificationKind]:
    """The kinds a user can receive, for the settings page."""
    kinds: list[NotificationKind] = []
    if user.has_role(Role.VOLUNTEER):
        kinds.extend(VOLUNTEER_KINDS)
    if user.is_staff:
        kinds.extend(STAFF_KINDS)
    return kinds or list(NotificationKind)


def preferences(user) -> dict[NotificationKind, bool]:
    """Every kind → whether the user receives it (absent row: on)."""
    rows = db.session.execute(
        sa.select(NotificationPreference.kind, NotificationPreference.enabled).where(
            NotificationPreference.user_id == user.id
        )
    )
    off = {kind for kind, enabled in rows if not enabled}
    return {kind: kind not in off for kind in NotificationKind}


def set_preference(user, kind: NotificationKind, enabled: bool, *, commit: bool = True) -> None:
    """Turn one kind of notification on or off for the user; commit."""
    row = db.session.get(NotificationPreference, (user.id, kind))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, enabled=bool(enabled)))
    else:
        row.enabled = bool(enabled)
    if commit:
        db.session.commit()


def set_preferences(user, enabled: dict[NotificationKind, bool]) -> None:
    """Save several preferences at once (the settings form); commit once."""
    for kind, on in enabled.items():
        set_preference(user, kind, on, commit=False)
    db.session.commit()
