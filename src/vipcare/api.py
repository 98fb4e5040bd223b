"""The POS and partner API, assembled from each app's router (OpenAPI at /api/docs)."""

from ninja import NinjaAPI

api = NinjaAPI(title="vipcare POS API", version="1", urls_namespace="api")

from vipcare.sales.api import router as pos_router  # noqa: E402

api.add_router("/pos", pos_router, tags=["POS"])
