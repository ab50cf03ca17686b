"""A tenant admin sets their first password through the one-time link (`tenants_app.passwords`)."""

from django.contrib import admin, messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy


class SetPasswordView(PasswordResetConfirmView):
    """Django's password-reset confirmation (its token check and `SetPasswordForm`), on the
    tenant's admin login page; once used, the link no longer works."""

    template_name = "admin/set_password.html"
    title = "Set your password"
    success_url = reverse_lazy("admin:login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set: log in with it.")
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**admin.site.each_context(self.request), **context}
