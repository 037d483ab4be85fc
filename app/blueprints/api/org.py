"""GET /org/grids and GET /skills: what a registration form chooses from."""

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.schemas import OrgTree, SkillOut
from app.services.catalogue import list_skills
from app.services.org import org_tree

blp = Blueprint("api_org", __name__, url_prefix="", description="Org tree and catalogues")


@blp.get("/org/grids")
@blp.response(200, OrgTree)
def grids():
    """Streets, their communities and their grids."""
    return {"streets": org_tree()}


@blp.get("/skills")
@blp.response(200, SkillOut(many=True))
def skills():
    """The skills a volunteer may offer."""
    return list_skills()
