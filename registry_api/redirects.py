"""Pulls through the old name of a renamed or moved repository (hub.models.RepositoryRedirect).

The gate (registry_api.endpoint) follows a redirect for callers who may pull the repository it
leads to, and only for pulls: a push to an old name is refused with DENIED naming the new name,
because a push that followed the redirect would silently land in a repository under a name the
pusher did not write (and one meant to start a new repository at the freed name would instead
overwrite tags of the moved one). Whoever means to reuse the name creates a repository there
(UI or API), which ends the redirect. Every answer through an old name says where it moved:

    Deprecation: true
    Link: </v2/acme/app/manifests/v1>; rel="successor-version"
    Warning: 299 - "alice/app was renamed to acme/app; pull acme/app instead"

and each manifest GET through it is audited (`repository.redirect_pull`, in the namespace of
the repository), so owners see who still uses the old name before they remove it.
"""

from __future__ import annotations

from hub.audit import audit_record


def moved_message(ctx) -> str:
    return f"{ctx.client_name} was renamed to {ctx.repository.display_name}"


def moved_headers(request, ctx, response) -> None:
    """Say on the answer that the name is old and which name replaces it."""
    new_name = ctx.repository.display_name
    old_prefix = f"/v2/{ctx.client_name}/"
    path = request.path_info
    successor = f"/v2/{new_name}/{path[len(old_prefix) :]}" if path.startswith(old_prefix) else ""
    response["Deprecation"] = "true"
    if successor:
        link = f'<{successor}>; rel="successor-version"'
        response["Link"] = f"{response['Link']}, {link}" if response.has_header("Link") else link
    response["Warning"] = f'299 - "{moved_message(ctx)}; pull {new_name} instead"'


def moved_pull_audit(ctx, reference: str) -> None:
    """One entry per manifest GET through an old name."""
    separator = "@" if ":" in reference else ":"  # a digest, or a tag (which holds no colon)
    audit_record(
        action="repository.redirect_pull",
        actor=ctx.user_or_none,
        target=f"{ctx.full_name}{separator}{reference}"[:300],
        namespace=ctx.repository.namespace.name,
        data={"repository": ctx.repository.full_name},
    )
