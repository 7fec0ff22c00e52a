"""The repository's webhooks page (admins only): hooks, their deliveries, redeliver and test."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from webhooks import selectors as webhook_selectors
from webhooks import services
from webhooks.forms import WebhookForm

RECENT_DELIVERIES = 20
SECRET_SESSION_KEY = "webhook_secret_once"  # noqa: S105 - a session key name


def _repository(request, namespace: str, name: str):
    repository = selectors.repository_get(namespace=namespace, name=name)
    if repository is None or not permissions.can_view(request.user, repository):
        raise Http404("No such repository.")
    if not permissions.can_admin(request.user, repository):
        raise PermissionDenied
    return repository


def _webhook(repository, webhook_id):
    hook = webhook_selectors.webhook_get(repository=repository, webhook_id=webhook_id)
    if hook is None:
        raise Http404("No such webhook.")
    return hook


def _list_url(repository) -> str:
    return reverse("webhooks:list", args=[repository.namespace.name, repository.name])


def _detail_url(hook) -> str:
    repository = hook.repository
    return reverse("webhooks:detail", args=[repository.namespace.name, repository.name, hook.pk])


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _show_secret_once(request, hook, secret: str) -> None:
    request.session[SECRET_SESSION_KEY] = {"id": hook.pk, "secret": secret}


@login_required
def webhook_list(request, namespace: str, name: str):
    repository = _repository(request, namespace, name)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hook = services.webhook_create(
                repository=repository,
                actor=request.user,
                name=data["name"],
                url=data["url"],
                events=data["events"],
                payload_format=data["payload_format"],
                secret=data["secret"],
                is_active=data["is_active"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            _show_secret_once(request, hook, hook.secret)
            messages.success(request, _("Webhook created."))
            return redirect(_detail_url(hook))
    hooks = list(webhook_selectors.webhook_list(repository=repository))
    return render(
        request,
        "webhooks/webhook_list.html",
        {"repository": repository, "hooks": hooks, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def webhook_detail(request, namespace: str, name: str, webhook_id: int):
    repository = _repository(request, namespace, name)
    hook = _webhook(repository, webhook_id)
    form = WebhookForm.for_webhook(hook, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret = "" if data.get("regenerate_secret") else (data["secret"] or None)
        try:
            services.webhook_update(
                webhook=hook,
                secret=secret,
                name=data["name"],
                url=data["url"],
                events=data["events"],
                payload_format=data["payload_format"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if secret is not None:
                _show_secret_once(request, hook, hook.secret)
            messages.success(request, _("Webhook saved."))
            return redirect(_detail_url(hook))
    shown = request.session.pop(SECRET_SESSION_KEY, None)
    new_secret = shown["secret"] if shown and shown.get("id") == hook.pk else ""
    deliveries = webhook_selectors.delivery_list(webhook=hook)[:RECENT_DELIVERIES]
    return render(
        request,
        "webhooks/webhook_detail.html",
        {
            "repository": repository,
            "hook": hook,
            "form": form,
            "deliveries": deliveries,
            "new_secret": new_secret,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def webhook_delete(request, namespace: str, name: str, webhook_id: int):
    repository = _repository(request, namespace, name)
    services.webhook_delete(webhook=_webhook(repository, webhook_id))
    messages.success(request, _("Webhook deleted."))
    return redirect(_list_url(repository))


@login_required
@require_POST
def webhook_test(request, namespace: str, name: str, webhook_id: int):
    repository = _repository(request, namespace, name)
    hook = _webhook(repository, webhook_id)
    services.webhook_test(webhook=hook, actor=request.user)
    messages.success(request, _("Test event queued."))
    return redirect(_detail_url(hook))


@login_required
@require_POST
def delivery_redeliver(request, namespace: str, name: str, webhook_id: int, delivery_id: int):
    repository = _repository(request, namespace, name)
    hook = _webhook(repository, webhook_id)
    delivery = webhook_selectors.delivery_get(webhook=hook, delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    services.delivery_redeliver(delivery=delivery)
    messages.success(request, _("Delivery queued again."))
    return redirect(_detail_url(hook))
