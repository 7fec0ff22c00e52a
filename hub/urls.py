"""The web UI's routes. Repository names contain slashes, so sub-pages sit behind `/-/`."""

from django.urls import path, register_converter

from hub.views import (
    avatars,
    compare,
    docker_search,
    pages,
    repositories,
    repository_create,
    retention_settings,
    search,
    settings,
    social,
    tag_history,
    transfers,
)


class RepositoryNameConverter:
    """An OCI repository name (path components separated by '/'); never matches '-'."""

    regex = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RepositoryNameConverter, "hubreponame")

app_name = "hub"

R = "r/<str:namespace>/<hubreponame:name>/"

urlpatterns = [
    path("", pages.explore, name="explore"),
    path("search/", search.search, name="search"),
    path("v1/search", docker_search.docker_search, name="docker-search"),
    path("v1/_ping", docker_search.ping, name="docker-ping"),
    path("u/<str:namespace>/", pages.profile, name="profile"),
    path("u/<str:namespace>/avatar", avatars.avatar, name="avatar"),
    path("repositories/new/", repository_create.repository_new, name="repository-new"),
    path(R, repositories.repository_detail, name="repository-detail"),
    path(R + "-/tags/<str:tag>/", repositories.tag_detail, name="tag-detail"),
    path(R + "-/blobs/<str:digest>/", repositories.referrer_blob, name="referrer-blob"),
    path(R + "-/tags/<str:tag>/history/", tag_history.tag_history, name="tag-history"),
    path(R + "-/tags/<str:tag>/restore/", tag_history.tag_restore, name="tag-restore"),
    path(R + "-/compare/", compare.repository_compare, name="repository-compare"),
    path(R + "-/deleted-tags/", tag_history.tags_deleted, name="tags-deleted"),
    path(R + "-/star/", social.star_toggle, name="repository-star"),
    path(R + "-/comments/", social.comment_create, name="comment-create"),
    path(R + "-/comments/<int:pk>/edit/", social.comment_edit, name="comment-edit"),
    path(R + "-/comments/<int:pk>/delete/", social.comment_delete, name="comment-delete"),
    path(R + "-/settings/", settings.repository_settings, name="repository-settings"),
    path(R + "-/settings/collaborators/", settings.collaborator_add, name="collaborator-add"),
    path(
        R + "-/settings/collaborators/<str:username>/",
        settings.collaborator_update,
        name="collaborator-update",
    ),
    path(R + "-/settings/tags/<str:tag>/delete/", settings.tag_delete, name="tag-delete"),
    path(
        R + "-/settings/immutability/",
        settings.immutability_rule_add,
        name="immutability-rule-add",
    ),
    path(
        R + "-/settings/immutability/<int:rule_id>/delete/",
        settings.immutability_rule_delete,
        name="immutability-rule-delete",
    ),
    path(R + "-/settings/delete/", settings.repository_delete, name="repository-delete"),
    path(
        R + "-/settings/transfer/",
        transfers.repository_transfer_view,
        name="repository-transfer",
    ),
    path(
        R + "-/settings/redirects/<int:redirect_id>/delete/",
        transfers.repository_redirect_delete,
        name="repository-redirect-delete",
    ),
    path(
        R + "-/settings/retention/",
        retention_settings.retention_policy_add,
        name="retention-policy-add",
    ),
    path(
        R + "-/settings/retention/<int:policy_id>/",
        retention_settings.retention_policy_change,
        name="retention-policy-change",
    ),
    path(
        R + "-/settings/retention/<int:policy_id>/preview/",
        retention_settings.retention_policy_preview,
        name="retention-policy-preview",
    ),
    path(
        R + "-/settings/retention/<int:policy_id>/run/",
        retention_settings.retention_policy_run,
        name="retention-policy-run",
    ),
    path(
        R + "-/settings/retention/<int:policy_id>/delete/",
        retention_settings.retention_policy_remove,
        name="retention-policy-remove",
    ),
]
