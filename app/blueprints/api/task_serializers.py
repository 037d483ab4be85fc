"""Tasks, claims and service types → dicts for the tasks API schemas.

What a caller may see follows the rules: a household's address, phone and
masked householder only for staff and volunteers holding a place
(`privacy.household_contact`); other volunteers' claims and the status
history only for staff.
"""

from app.models import Claim, ServiceType, Task, WaitlistEntry
from app.services import privacy


def service_type_out(service: ServiceType, per_visit: int, per_hour: int) -> dict:
    return {
        "code": service.code,
        "name": service.name,
        "skill": service.skill_code,
        "points_per_visit": per_visit,
        "points_per_hour": per_hour,
    }


def task_summary(task: Task) -> dict:
    """A row of the list (service type and grid loaded); never the household."""
    return {
        "id": task.id,
        "service_type": {"code": task.service_type.code, "name": task.service_type.name},
        "description": task.description,
        "grid": {"id": task.grid.id, "name": task.grid.name},
        "starts_at": task.starts_at,
        "ends_at": task.ends_at,
        "expected_minutes": task.expected_minutes,
        "slots": task.slots,
        "taken": task.taken,
        "urgency": task.urgency.value,
        "status": task.status.value,
        "created_at": task.created_at,
    }


def claim_out(claim: Claim) -> dict:
    """A claim (its volunteer loaded)."""
    return {
        "id": claim.id,
        "task_id": claim.task_id,
        "volunteer": {"id": claim.volunteer.id, "name": claim.volunteer.name},
        "status": claim.status.value,
        "claimed_at": claim.claimed_at,
        "released_at": claim.released_at,
        "release_reason": claim.release_reason,
        "check_in_at": claim.check_in_at,
        "check_out_at": claim.check_out_at,
        "confirmed_at": claim.confirmed_at,
    }


def _household_contact(actor, task: Task) -> dict | None:
    """Address, phone and masked householder, or None (the rule is `privacy.household_contact`)."""
    contact = privacy.household_contact(actor, task)
    if contact is None:
        return None
    return {
        "id": task.household_id,
        "address": contact.address,
        "contact_phone": contact.phone,
        "head_name": contact.name or None,
    }


def task_detail(actor, task: Task, *, on_waitlist: bool) -> dict:
    """One task as `actor` may see it (loaded with `task_detail_options()` in the blueprint)."""
    staff = actor.is_staff
    claims = task.claims if staff else [c for c in task.claims if c.volunteer_id == actor.id]
    return {
        **task_summary(task),
        "household": _household_contact(actor, task),
        "claims": [claim_out(c) for c in claims],
        "on_waitlist": on_waitlist,
        "events": (
            [
                {
                    "from_status": e.from_status.value if e.from_status else None,
                    "to_status": e.to_status.value,
                    "actor_id": e.actor_id,
                    "at": e.at,
                    "note": e.note,
                }
                for e in task.events
            ]
            if staff
            else None
        ),
    }


def waitlist_out(entry: WaitlistEntry, position: int) -> dict:
    return {"task_id": entry.task_id, "position": position, "created_at": entry.created_at}
