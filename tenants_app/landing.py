"""The public host's landing page: what Nexus is, the operators' way in, and the tenants' pages."""

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render

from tenants_app.selectors import tenant_pages_list


def landing(request: HttpRequest) -> HttpResponse:
    """The platform's front page; operators signed in also see every tenant's admin and demo."""
    pages = []
    if request.user.is_staff:
        _, port = split_domain_port(request.get_host())  # the port the browser used, if any
        pages = tenant_pages_list(scheme=request.scheme or "http", port=port)
    return render(request, "platform/landing.html", {"tenant_pages": pages})
