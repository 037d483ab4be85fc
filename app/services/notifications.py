"""Notifications through one interface: stored for the in-app centre, then
handed to the configured senders (development logs them; an SMS or WeChat
sender can be added to SENDERS later without touching callers)."""

import logging
from collections.abc import Callable

import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, NotificationKind, NotificationPreference

log = logging.getLogger(__name__)

# Each sender gets the stored notification after it is flushed.
SENDERS: list[Callable[[Notification], None]] = [
    lambda n: log.info("notification %s to user %s (task %s)", n.kind.value, n.user_id, n.task_id)
]


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
