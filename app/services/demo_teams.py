"""A demo love team (爱心团队) for `seed-demo`, made through the team rules; idempotent."""

from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Team
from app.services import teams
from app.services.demo_tasks import clock_at

DEMO_TEAM, DEMO_MOTTO = "银发关爱队", "多走一步，多陪一会儿"
# Members from a season ago, so the demo's past visits count for the team.
JOINED_DAYS_AGO = 90


def seed_demo_teams(community_id: int, volunteers) -> Team | None:
    """The demo team of the community with `volunteers` (volunteers of that
    community) as members, the first one its creator; commit.

    Run again, it changes nothing: the team is looked up by name, and a
    volunteer already in a team (this one or another) is left where they are.
    """
    team = db.session.scalar(sa.select(Team).where(Team.community_id == community_id, Team.name == DEMO_TEAM))
    joining = [v for v in volunteers if teams.current_membership(v.id) is None]
    if any(teams.community_of(v) != community_id for v in joining):
        raise ValueError("demo team members must be volunteers of its community")
    if not joining:
        return team
    with clock_at(clock.now() - timedelta(days=JOINED_DAYS_AGO)):
        for volunteer in joining:
            if team is None:
                team = teams.create_team(volunteer, DEMO_TEAM, DEMO_MOTTO)
            else:
                teams.join_team(volunteer, team.id)
    return team
