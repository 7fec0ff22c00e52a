"""Stars and comments. With htmx they answer partials; without, they redirect back."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hub import permissions
from hub.forms_repository import CommentForm
from hub.models import Comment, Star
from hub.services import social
from hub.views.repositories import repository_for_view


@login_required
@require_POST
def star_toggle(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    if Star.objects.filter(repository=repository, user=request.user).exists():
        social.repository_unstar(repository=repository, user=request.user)
        starred = False
    else:
        social.repository_star(repository=repository, user=request.user)
        starred = True
    repository.refresh_from_db(fields=["star_count"])
    if request.htmx:
        context = {"repository": repository, "starred": starred}
        return render(request, "hub/_star_button.html", context)
    messages.success(request, _("Starred.") if starred else _("Star removed."))
    return redirect(repository)


def _comment_form_response(request, repository, form):
    context = {"repository": repository, "comment_form": form}
    return render(request, "hub/_comment_form.html", context)


@login_required
@require_POST
def comment_create(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    form = CommentForm(request.POST)
    comment = None
    if not repository.comments_enabled:
        form.add_error(None, _("Comments are turned off for this repository."))
    elif form.is_valid():
        try:
            comment = social.comment_add(
                repository=repository, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        except social.CommentRateLimited as limited:
            form.add_error(None, str(limited))
    if request.htmx:
        if comment is None:
            return _comment_form_response(request, repository, form)
        context = {
            "repository": repository,
            "comment_form": CommentForm(),
            "new_comment": comment,
            "can_admin": permissions.can_admin(request.user, repository),
        }
        return render(request, "hub/_comment_form.html", context)
    if comment is None:
        for error in form.non_field_errors() + form.errors.get("body", []):
            messages.error(request, error)
    else:
        messages.success(request, _("Comment posted."))
    return redirect(repository.get_absolute_url() + "#comments")


def _comment_for_user(request, namespace, name, pk) -> Comment:
    repository = repository_for_view(request, namespace, name)
    return get_object_or_404(Comment.objects.select_related("author"), pk=pk, repository=repository)


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request, namespace, name, pk):
    comment = _comment_for_user(request, namespace, name, pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied
    repository = comment.repository
    form = CommentForm(request.POST or None, instance=comment)
    if request.method == "POST" and form.is_valid():
        social.comment_edit(comment=comment, body=form.cleaned_data["body"])
        if request.htmx:
            context = {
                "comment": comment,
                "repository": repository,
                "can_admin": permissions.can_admin(request.user, repository),
            }
            return render(request, "hub/_comment.html", context)
        messages.success(request, _("Comment updated."))
        return redirect(repository.get_absolute_url() + "#comments")
    template = "hub/_comment_edit.html" if request.htmx else "hub/comment_edit.html"
    context = {"comment": comment, "repository": repository, "form": form}
    return render(request, template, context)


@login_required
@require_POST
def comment_delete(request, namespace, name, pk):
    comment = _comment_for_user(request, namespace, name, pk)
    repository = comment.repository
    if comment.author_id != request.user.pk and not permissions.can_admin(request.user, repository):
        raise PermissionDenied
    social.comment_delete(comment=comment)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("Comment deleted."))
    return redirect(repository.get_absolute_url() + "#comments")
