"""The API 令牌 page: a user's personal API tokens (core.services.tokens), made and revoked by their owner."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from ..forms import ApiTokenForm, add_service_errors
from ..services import tokens
from ..widgets import bootstrap


class ApiTokenView(LoginRequiredMixin, View):
    """GET: the user's tokens and the form; POST: a new token, its secret shown on the answer only."""

    template_name = "core/api_tokens.html"

    def form(self, data=None):
        return bootstrap(ApiTokenForm(data, default_days=tokens.default_days(), max_days=tokens.max_days()))

    def render_page(self, request, form, *, created=None, secret=None):
        user = request.user
        others = None
        if user.has_perm(tokens.REVOKE_ANY_PERMISSION):  # a system administrator revokes tokens in their scope
            others = (tokens.revocable_tokens(user).exclude(user=user)
                      .filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).select_related("user")[:200])
        return render(request, self.template_name, {
            "form": form, "tokens": tokens.own_tokens(user), "others": others, "created": created, "secret": secret})

    def get(self, request):
        return self.render_page(request, self.form())

    def post(self, request):
        form = self.form(request.POST)
        if not form.is_valid():
            return self.render_page(request, form)
        d = form.cleaned_data
        try:
            token, secret = tokens.create_token(request.user, d["name"], d["scope"],
                                                timezone.now() + timedelta(days=d["days"]))
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "expires_at" in exc.error_dict:
                exc.error_dict["days"] = exc.error_dict.pop("expires_at")
            add_service_errors(form, exc)
            return self.render_page(request, form)
        # Rendered, not redirected: the secret must not wait in the session or a message for the next page.
        return self.render_page(request, self.form(), created=token, secret=secret)


class ApiTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(tokens.revocable_tokens(request.user), pk=pk)  # someone else's: 404
        try:
            tokens.revoke_token(token, request.user)
            messages.success(request, _("The API token %(name)s has been revoked.") % {"name": token})
        except (ValidationError, PermissionDenied) as exc:
            for message in (exc.messages if isinstance(exc, ValidationError) else [str(exc)]):
                messages.error(request, message)
        return redirect("core:api_tokens")
