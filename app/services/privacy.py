"""What a volunteer may see of a household, and the one name-masking rule.

A volunteer sees a task's household address, contact phone and masked
householder name only while holding a place on the task (DOMAIN.md,
"Transparency and privacy"); `household_contact` is the only way the pages
get them.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Household, Task


def mask_name(name: str | None) -> str:
    """Keep the first and last character, mask the middle: 张*明, 欧**华;
    a two-character name keeps the first (刘*); one character stays as is."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class HouseholdContact:
    """What a volunteer holding a place needs to reach the household."""

    address: str
    phone: str
    name: str  # the householder's name, masked


def household_contact(viewer, task: Task) -> HouseholdContact | None:
    """The household's address, phone and masked householder name if the
    viewer may see them (`tasks.sees_address`), else None."""
    from app.services.tasks import sees_address

    if not sees_address(viewer, task):
        return None
    household = db.session.scalar(
        sa.select(Household).where(Household.id == task.household_id).options(selectinload(Household.members))
    )
    head = household.head
    return HouseholdContact(
        address=household.address,
        phone=household.contact_phone,
        name=mask_name(head.name) if head else "",
    )
