"""Public pages (verification, permit list, JWKS) and the licence's PDF and QR image."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from yiciban.core.errors import DomainError, NotFound

from . import pdf, qr, selectors, services, signing

TOKEN_MAX = signing.TOKEN_MAX_LENGTH


@require_GET
@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> JsonResponse:
    """/.well-known/jwks.json: every licence-signing public key, current and retired."""
    response = JsonResponse(signing.jwks())
    response["Content-Type"] = "application/jwk-set+json"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@never_cache
def verify(request: HttpRequest, number: str) -> HttpResponse:
    token = request.GET.get("t", "")[:TOKEN_MAX]
    try:
        result = selectors.licence_verify(number, token)
    except NotFound as error:
        raise Http404(str(error)) from None
    return render(request, "licences/verify.html", {"v": result, "data": result.as_dict()})


@require_GET
@never_cache
def permit_list(request: HttpRequest, uscc: str) -> HttpResponse:
    """The page behind the business licence's QR: the business licence's own check, then
    every permit of the enterprise as it stands now."""
    try:
        listing = selectors.permit_list(uscc)
    except NotFound as error:
        raise Http404(str(error)) from None
    business = None
    token = request.GET.get("t", "")[:TOKEN_MAX]
    if listing["business_licence"]:
        business = selectors.licence_verify(listing["business_licence"], token)
    return render(request, "licences/permits.html", {"listing": listing, "business": business})


@login_required
@require_GET
def licence_pdf(request: HttpRequest, number: str) -> HttpResponse:
    try:
        licence = selectors.licence_for_user(request.user, number)
    except NotFound as error:
        raise Http404(str(error)) from None
    response = HttpResponse(pdf.licence_pdf(licence), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="licence-{licence.number}.pdf"'
    return response


@login_required
@require_GET
def licence_qr(request: HttpRequest, number: str) -> HttpResponse:
    try:
        licence = selectors.licence_for_user(request.user, number)
    except NotFound as error:
        raise Http404(str(error)) from None
    return HttpResponse(qr.qr_png(qr.qr_content(licence)), content_type="image/png")


@login_required
@require_http_methods(["GET", "POST"])
def licence_revoke(request: HttpRequest, number: str) -> HttpResponse:
    """The issuing department revokes a licence (吊销/撤销) with a reason; the public
    verification page and the holder's permit list show it at once."""
    try:
        licence = selectors.licence_for_user(request.user, number)
    except NotFound as error:
        raise Http404(str(error)) from None
    reason = request.POST.get("reason", "") if request.method == "POST" else ""
    error, status = "", 200
    if request.method == "POST":
        try:
            services.licence_revoke(actor=request.user, licence=licence, reason=reason)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("证照 %(n)s 已撤销") % {"n": licence.number})
            return redirect("licences:verify", number=licence.number)
    return render(
        request,
        "licences/revoke.html",
        {"licence": licence, "reason": reason, "error": error},
        status=status,
    )
