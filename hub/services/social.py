"""Stars, comments and collaborators. Callers check permissions before calling."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Collaborator, Comment, Repository, Star


@transaction.atomic
def repository_star(*, repository: Repository, user) -> Star:
    """Star a repository; starring twice is a no-op."""
    star, created = Star.objects.get_or_create(repository=repository, user=user)
    if created:
        Repository.objects.filter(pk=repository.pk).update(star_count=F("star_count") + 1)
    return star


@transaction.atomic
def repository_unstar(*, repository: Repository, user) -> None:
    deleted, _kinds = Star.objects.filter(repository=repository, user=user).delete()
    if deleted:
        Repository.objects.filter(pk=repository.pk, star_count__gt=0).update(
            star_count=F("star_count") - 1
        )


COMMENT_RATE_WINDOW_SECONDS = 60


class CommentRateLimited(Exception):
    """The author posted COMMENTS_PER_MINUTE comments in this minute; `wait` seconds remain."""

    def __init__(self, wait: int):
        super().__init__(_("You are commenting too fast. Wait a minute and try again."))
        self.wait = wait


def _comment_rate_check(author) -> None:
    """One brake however a comment arrives (web form, htmx, REST). A fixed window in the shared
    cache: the key names its minute, so every worker counts into the same number and a retry
    never extends the window; add() then incr() is atomic on Redis."""
    now = time.time()
    window = int(now // COMMENT_RATE_WINDOW_SECONDS)
    key = f"comment-rate:{author.pk}:{window}"
    cache.add(key, 0, timeout=COMMENT_RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=COMMENT_RATE_WINDOW_SECONDS * 2)
        count = 1
    if count > settings.COMMENTS_PER_MINUTE:
        raise CommentRateLimited(wait=int((window + 1) * COMMENT_RATE_WINDOW_SECONDS - now) + 1)


def comment_add(*, repository: Repository, author, body: str) -> Comment:
    """Add a comment; raise ValidationError for a bad body, CommentRateLimited past the brake."""
    if not repository.comments_enabled:
        raise ValidationError({"body": _("Comments are turned off for this repository.")})
    comment = Comment(repository=repository, author=author, body=body.strip())
    comment.full_clean()
    _comment_rate_check(author)
    comment.save()
    return comment


def comment_edit(*, comment: Comment, body: str) -> Comment:
    comment.body = body.strip()
    comment.edited_at = timezone.now()
    comment.full_clean()
    comment.save(update_fields=["body", "edited_at"])
    return comment


def comment_delete(*, comment: Comment) -> None:
    comment.delete()


def collaborator_add(*, repository: Repository, username: str, role: str) -> Collaborator:
    """Add (or re-role) a collaborator by username; raise ValidationError for unknown users."""
    # Robots (`ns+name`) are nobody's member or collaborator: they hold only their own grants.
    user = (
        get_user_model()
        .objects.filter(username=username, is_active=True)
        .exclude(username__contains="+")
        .first()
    )
    if user is None:
        raise ValidationError(
            {"username": _("There is no user named %(username)s.") % {"username": repr(username)}}
        )
    if repository.namespace.user_id == user.pk:
        raise ValidationError({"username": _("The owner already has every permission.")})
    if role not in Collaborator.Role.values:
        raise ValidationError(
            {
                "role": _("Role must be one of %(roles)s.")
                % {"roles": ", ".join(Collaborator.Role.values)}
            }
        )
    collaborator, _created = Collaborator.objects.update_or_create(
        repository=repository, user=user, defaults={"role": role}
    )
    grant_versions.repository_changed(repository)
    audit_record(
        action="collaborator.add",
        target=f"{repository.full_name}/@{username}",
        namespace=repository.namespace.name,
        data={"role": role},
    )
    return collaborator


def collaborator_update(*, collaborator: Collaborator, role: str) -> Collaborator:
    if role not in Collaborator.Role.values:
        raise ValidationError(
            {
                "role": _("Role must be one of %(roles)s.")
                % {"roles": ", ".join(Collaborator.Role.values)}
            }
        )
    collaborator.role = role
    collaborator.save(update_fields=["role"])
    grant_versions.repository_changed(collaborator.repository)
    _collaborator_audit("collaborator.update", collaborator, {"role": role})
    return collaborator


def collaborator_remove(*, collaborator: Collaborator) -> None:
    collaborator.delete()
    grant_versions.repository_changed(collaborator.repository)
    _collaborator_audit("collaborator.remove", collaborator, {})


def _collaborator_audit(action: str, collaborator: Collaborator, data: dict) -> None:
    repository = collaborator.repository
    audit_record(
        action=action,
        target=f"{repository.full_name}/@{collaborator.user.username}",
        namespace=repository.namespace.name,
        data=data,
    )
