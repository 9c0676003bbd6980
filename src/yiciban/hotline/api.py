from ninja import Router

router = Router()
georeport_router = Router()
