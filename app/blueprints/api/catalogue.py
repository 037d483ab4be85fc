"""GET /service-types: the service catalogue, for anyone."""

from app.blueprints.api.blueprint import Blueprint
from app.blueprints.api.task_schemas import ServiceTypeOut
from app.blueprints.api.task_serializers import service_type_out
from app.services.catalogue import active_service_types, with_rates

blp = Blueprint("api_catalogue", __name__, url_prefix="/service-types", description="The service catalogue")


@blp.get("")
@blp.response(200, ServiceTypeOut(many=True))
def service_types():
    """The active services, in catalogue order, named in the request's language (Accept-Language)."""
    return [service_type_out(*row) for row in with_rates(active_service_types())]
