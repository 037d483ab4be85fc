"""Households, members and needs → dicts for the households API schemas.

Enums become their `.value`; dates stay dates for the schemas to format.
A member's ID number only ever leaves as `Member.id_masked`.
"""

from datetime import date

from app.models import Household, Member, Need
from app.services.standards import Assessment
from app.services.warnings import ScoredNeed, WarningKind


def household_summary(household: Household) -> dict:
    """A row of the list (members and grid loaded)."""
    head = household.head
    return {
        "id": household.id,
        "grid": {"id": household.grid.id, "name": household.grid.name},
        "address": household.address,
        "head_name": head.name if head else None,
        "member_count": len(household.members),
        "status": household.status.value,
        "next_review_on": household.next_review_on,
    }


def member_out(member: Member, today: date) -> dict:
    return {
        "id": member.id,
        "name": member.name,
        "relation": member.relation.value,
        "id_masked": member.id_masked,
        "birth_date": member.birth_date,
        "age": member.age_on(today),
        "sex": member.sex.value if member.sex else None,
        "serious_illness": member.serious_illness,
        "disability_grade": member.disability_grade,
        "work_capacity": member.work_capacity.value,
        "schooling": member.schooling.value,
    }


def need_out(need: Need, score: int | None) -> dict:
    """A need (service type loaded) with its urgency score, None unless open."""
    return {
        "id": need.id,
        "service_type": {"code": need.service_type.code, "name": need.service_type.name},
        "description": need.description,
        "urgency": need.urgency.value,
        "status": need.status.value,
        "urgency_score": score,
        "created_at": need.created_at,
        "closed_at": need.closed_at,
    }


def scored_needs(scored: list[ScoredNeed]) -> list[dict]:
    return [need_out(s.need, s.score) for s in scored]


def assessment_out(assessment: Assessment) -> dict:
    found = assessment.classification
    standard = assessment.standard
    return {
        "categories": sorted(c.value for c in found.categories) if found else None,
        "per_capita_monthly": round(found.per_capita_monthly) if found else None,
        "below_standard": found.below_standard if found else None,
        "standard": (
            {"effective_from": standard.effective_from, "monthly_amount": standard.monthly_amount}
            if standard
            else None
        ),
        "reason": assessment.reason,
    }


def household_detail(
    household: Household,
    today: date,
    *,
    categories,
    warnings: list[WarningKind],
    open_needs: list[ScoredNeed],
    assessment: Assessment,
) -> dict:
    """The whole record (loaded with `households.household_options()`)."""
    latest_consent = household.consents[-1] if household.consents else None
    grid = household.grid
    return {
        "id": household.id,
        "grid": {
            "id": grid.id,
            "name": grid.name,
            "community": {"id": grid.community.id, "name": grid.community.name},
        },
        "address": household.address,
        "building": household.building,
        "unit": household.unit,
        "room": household.room,
        "contact_phone": household.contact_phone,
        "register_type": household.register_type.value,
        "resident_since": household.resident_since,
        "lives_alone": household.lives_alone,
        "income_stable": household.income_stable,
        "property_within_limits": household.property_within_limits,
        "status": household.status.value,
        "next_review_on": household.next_review_on,
        "created_at": household.created_at,
        "members": [member_out(m, today) for m in household.members],
        "consent": {
            "given": household.has_consent,
            "on": latest_consent.on if latest_consent else None,
            "scope": latest_consent.scope if latest_consent else "",
        },
        "events": [
            {"kind": e.kind.value, "on": e.on, "reason": e.reason, "approved_by_id": e.approved_by_id}
            for e in household.events
        ],
        "categories": [
            {
                "id": a.id,
                "category": a.category.value,
                "status": a.status.value,
                "proposed_at": a.proposed_at,
                "steps": [
                    {
                        "action": s.action.value,
                        "by": {"id": s.by.id, "name": s.by.name},
                        "at": s.at,
                        "note": s.note,
                    }
                    for s in a.steps
                ],
            }
            for a in categories
        ],
        "warnings": [w.value for w in warnings],
        "open_needs": scored_needs(open_needs),
        "finances": [
            {
                "month": f.month,
                "income": f.income,
                "illness_expense": f.illness_expense,
                "disaster_expense": f.disaster_expense,
                "schooling_expense": f.schooling_expense,
            }
            for f in household.finances
        ],
        "assessment": assessment_out(assessment),
    }
