"""The platform admin's "Set up a tenant" page, and the page an operator reads once it is done."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path
from django_tenants.utils import get_public_schema_name

from tenants_app.config import ConfigError
from tenants_app.passwords import set_password_links
from tenants_app.selectors import tenant_setup_summary
from tenants_app.services import tenant_setup
from tenants_app.setup_forms import ConfigUploadForm, TenantSetupForm, config_error_field

UPLOAD_FIELDSETS: list[tuple[str, dict[str, Any]]] = [
    (
        "Or upload a config.yaml",
        {
            "fields": ["config_file"],
            "description": "The same file <code>manage.py tenant_onboard</code> reads, checked "
            "the same way; a tenant it names must not exist yet.",
        },
    )
]


class TenantSetupAdmin(admin.ModelAdmin):
    """Adds `setup/` (a new tenant with its first admin, agent and widget key, in one
    transaction) and `<id>/setup-done/` (where it lives and its admins' set-password links)."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("setup/", wrap(self.setup_view), name=f"{name}_setup"),
            path(
                "<path:object_id>/setup-done/",
                wrap(self.setup_done_view),
                name=f"{name}_setup_done",
            ),
            *super().get_urls(),
        ]

    def setup_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form, upload = TenantSetupForm(), ConfigUploadForm()
        if request.method == "POST":
            if "_upload" in request.POST:
                upload = ConfigUploadForm(request.POST, request.FILES)
                bound: TenantSetupForm | ConfigUploadForm = upload
            else:
                form = bound = TenantSetupForm(request.POST)
            if bound.is_valid():
                try:
                    result = tenant_setup(config=bound.config)
                except ConfigError as error:
                    if bound is form:
                        form.add_error(*config_error_field(error))
                    else:
                        upload.add_error("config_file", error.message)
                else:
                    self.log_addition(request, result.tenant, [{"added": {}}])
                    messages.success(request, f"{result.tenant.name} is set up.")
                    return redirect(
                        f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}"
                        "_setup_done",
                        result.tenant.pk,
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": "Set up a tenant",
            "opts": self.opts,
            "adminform": _admin_form(form, TenantSetupForm.fieldsets),
            "upload_adminform": _admin_form(upload, UPLOAD_FIELDSETS),
            "errors": form.errors or upload.errors,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tenants_app/tenant/setup.html", context)

    def setup_done_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        tenant = self.get_object(request, unquote(object_id))
        if tenant is None or tenant.schema_name == get_public_schema_name():
            raise Http404("No such tenant.")
        if not self.has_view_or_change_permission(request, tenant):
            raise PermissionDenied
        _, port = split_domain_port(request.get_host())  # the port the operator's browser used
        scheme = "https" if request.is_secure() else "http"
        summary = tenant_setup_summary(tenant=tenant, scheme=scheme, port=port)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{tenant.name}: set-up",
            "opts": self.opts,
            "original": tenant,
            "summary": summary,
            "links": set_password_links(tenant=tenant, scheme=scheme, port=port),
            "link_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            "widget_src": summary.origin + static("nexus/widget.js"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tenants_app/tenant/setup_done.html", context)


def _admin_form(form: forms.Form, fieldsets: list[tuple[str, dict[str, Any]]]) -> AdminForm:
    """A plain form laid out in the admin's fieldsets (as Django's own password-change page)."""
    # django-stubs type AdminForm's form as a ModelForm; Django takes any form.
    return AdminForm(form, fieldsets, {})  # type: ignore[arg-type]
