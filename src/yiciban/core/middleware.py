import uuid

from .context import RequestContext, bound

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


class RequestContextMiddleware:
    """Binds the request id and client address for audit events and echoes the id back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get(REQUEST_ID_HEADER, "")
        # Accept a caller's id only if it is short and printable: it ends up in logs.
        request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else None
        ctx = RequestContext(
            request_id=request_id or uuid.uuid4().hex,
            client_address=request.META.get("REMOTE_ADDR"),
            channel="api" if request.path.startswith("/api/") else "web",
        )
        request.request_id = ctx.request_id
        with bound(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response
