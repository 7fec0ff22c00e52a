"""The webhooks pages: a repository's (its admins) and an organization's (its owners).

Pages list hooks, create/edit/delete them, and show each hook's recent deliveries with their
attempts, a redeliver button per delivery and a send-test button.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from hub.forms import validation_errors_to_form
from hub.models import Star
from webhooks import selectors as webhook_selectors
from webhooks.forms import WebhookForm
from webhooks.services import hooks as hook_services
from webhooks.services import sweep

RECENT_DELIVERIES = 20
SECRET_SESSION_KEY = "webhook_secret_once"  # noqa: S105 - a session key name


@dataclass
class Owner:
    """Whose hooks a page manages: a repository's or an organization's."""

    repository: object = None
    namespace: object = None  # the organization's namespace

    @property
    def filter(self) -> dict:
        if self.repository is not None:
            return {"repository": self.repository}
        return {"organization": self.namespace.organization}

    def _url(self, view: str, **kwargs) -> str:
        if self.repository is not None:
            owner = {"namespace": self.repository.namespace.name, "name": self.repository.name}
            return reverse(f"webhooks:{view}", kwargs={**owner, **kwargs})
        return reverse(f"webhooks:org-{view}", kwargs={"org": self.namespace.name, **kwargs})

    def list_url(self) -> str:
        return self._url("list")

    def hook_url(self, hook, view: str = "detail", **kwargs) -> str:
        return self._url(view, webhook_id=hook.pk, **kwargs)

    def context(self, user) -> dict:
        context = {
            "repository": self.repository,
            "org_namespace": self.namespace,
            "list_url": self.list_url(),
        }
        if self.repository is not None:  # for the repository header shared with hub's pages
            context["can_admin"] = True
            context["starred"] = Star.objects.filter(repository=self.repository, user=user).exists()
        return context


def _owner(request, kwargs) -> Owner:
    if "org" in kwargs:
        namespace = selectors.namespace_get(name=kwargs["org"])
        if namespace is None or not namespace.is_organization:
            raise Http404("No such organization.")
        if not permissions.can_manage_organization(request.user, namespace):
            raise PermissionDenied
        return Owner(namespace=namespace)
    repository = selectors.repository_get(namespace=kwargs["namespace"], name=kwargs["name"])
    if repository is None or not permissions.can_view(request.user, repository):
        raise Http404("No such repository.")
    if not permissions.can_admin(request.user, repository):
        raise PermissionDenied
    return Owner(repository=repository)


def _webhook(owner: Owner, webhook_id):
    hook = webhook_selectors.webhook_get(webhook_id=webhook_id, **owner.filter)
    if hook is None:
        raise Http404("No such webhook.")
    return hook


def _show_secret_once(request, hook, secret: str) -> None:
    request.session[SECRET_SESSION_KEY] = {"id": hook.pk, "secret": secret}


@login_required
def webhook_list(request, **kwargs):
    owner = _owner(request, kwargs)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hook = hook_services.webhook_create(
                actor=request.user,
                name=data["name"],
                url=data["url"],
                events=data["events"],
                payload_format=data["payload_format"],
                secret=data["secret"],
                is_active=data["is_active"],
                site_url=request.build_absolute_uri("/"),
                **owner.filter,
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            _show_secret_once(request, hook, hook.secret)
            messages.success(request, _("Webhook created."))
            return redirect(owner.hook_url(hook))
    hooks = list(webhook_selectors.webhook_list(**owner.filter))
    for hook in hooks:
        hook.page_url = owner.hook_url(hook)
    return render(
        request,
        "webhooks/webhook_list.html",
        {**owner.context(request.user), "hooks": hooks, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def webhook_detail(request, **kwargs):
    owner = _owner(request, kwargs)
    hook = _webhook(owner, kwargs["webhook_id"])
    form = WebhookForm.for_webhook(hook, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret = "" if data.get("regenerate_secret") else (data["secret"] or None)
        try:
            hook_services.webhook_update(
                webhook=hook,
                secret=secret,
                name=data["name"],
                url=data["url"],
                events=data["events"],
                payload_format=data["payload_format"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            if secret is not None:
                _show_secret_once(request, hook, hook.secret)
            messages.success(request, _("Webhook saved."))
            return redirect(owner.hook_url(hook))
    shown = request.session.pop(SECRET_SESSION_KEY, None)
    new_secret = shown["secret"] if shown and shown.get("id") == hook.pk else ""
    deliveries = list(webhook_selectors.delivery_list(webhook=hook)[:RECENT_DELIVERIES])
    for delivery in deliveries:
        delivery.redeliver_url = owner.hook_url(hook, "redeliver", delivery_id=delivery.pk)
    return render(
        request,
        "webhooks/webhook_detail.html",
        {
            **owner.context(request.user),
            "hook": hook,
            "form": form,
            "deliveries": deliveries,
            "new_secret": new_secret,
            "test_url": owner.hook_url(hook, "test"),
            "delete_url": owner.hook_url(hook, "delete"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def webhook_delete(request, **kwargs):
    owner = _owner(request, kwargs)
    hook_services.webhook_delete(webhook=_webhook(owner, kwargs["webhook_id"]))
    messages.success(request, _("Webhook deleted."))
    return redirect(owner.list_url())


@login_required
@require_POST
def webhook_test(request, **kwargs):
    owner = _owner(request, kwargs)
    hook = _webhook(owner, kwargs["webhook_id"])
    hook_services.webhook_test(webhook=hook, actor=request.user)
    messages.success(request, _("Test event queued."))
    return redirect(owner.hook_url(hook))


@login_required
@require_POST
def delivery_redeliver(request, **kwargs):
    owner = _owner(request, kwargs)
    hook = _webhook(owner, kwargs["webhook_id"])
    delivery = webhook_selectors.delivery_get(webhook=hook, delivery_id=kwargs["delivery_id"])
    if delivery is None:
        raise Http404("No such delivery.")
    sweep.delivery_redeliver(delivery=delivery, actor=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect(owner.hook_url(hook))
