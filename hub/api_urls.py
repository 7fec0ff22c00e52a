"""The REST API under /api/v1/. Repository names contain slashes (`<path:name>`), so every
sub-resource route comes before the repository detail route, and webhooks' routes
(repositories/<ns>/<name>/webhooks/...) are included before all of them."""

from django.urls import include, path

from hub.apis import (
    access_tokens,
    audit_log,
    compare,
    immutability,
    invitations,
    organizations,
    referrers,
    repositories,
    retention,
    robots,
    search,
    signing_keys,
    social,
    tag_history,
    tags,
    teams,
    transfers,
    usage,
    users,
)

app_name = "hub-api"

REPO = "repositories/<str:namespace>/<path:name>"

urlpatterns = [
    path("users/", users.UserListApi.as_view(), name="user-list"),
    path("users/me/", users.UserMeApi.as_view(), name="user-me"),
    path("users/me/robots/", robots.MyRobotListApi.as_view(), name="my-robot-list"),
    path("users/me/robots/<str:robot>/", robots.MyRobotDetailApi.as_view(), name="my-robot-detail"),
    path(
        "users/me/robots/<str:robot>/rotate/",
        robots.MyRobotRotateApi.as_view(),
        name="my-robot-rotate",
    ),
    path("", include("webhooks.api_urls")),
    path("repositories/", repositories.RepositoryListApi.as_view(), name="repository-list"),
    path(f"{REPO}/tags/", tags.TagListApi.as_view(), name="tag-list"),
    path(f"{REPO}/tags/<str:tag>/", tags.TagDetailApi.as_view(), name="tag-detail"),
    path(
        f"{REPO}/tags/<str:tag>/referrers/",
        referrers.TagReferrerListApi.as_view(),
        name="tag-referrer-list",
    ),
    path(
        f"{REPO}/tags/<str:tag>/signature/",
        referrers.TagSignatureApi.as_view(),
        name="tag-signature",
    ),
    path(
        f"{REPO}/tags/<str:tag>/history/",
        tag_history.TagHistoryApi.as_view(),
        name="tag-history",
    ),
    path(
        f"{REPO}/tags/<str:tag>/restore/",
        tag_history.TagRestoreApi.as_view(),
        name="tag-restore",
    ),
    path(f"{REPO}/star/", social.RepositoryStarApi.as_view(), name="repository-star"),
    path(f"{REPO}/stargazers/", social.StargazerListApi.as_view(), name="stargazer-list"),
    path(f"{REPO}/comments/", social.CommentListApi.as_view(), name="comment-list"),
    path(
        f"{REPO}/comments/<str:comment_id>/",
        social.CommentDetailApi.as_view(),
        name="comment-detail",
    ),
    path(f"{REPO}/collaborators/", social.CollaboratorListApi.as_view(), name="collaborator-list"),
    path(
        f"{REPO}/collaborators/<str:username>/",
        social.CollaboratorDetailApi.as_view(),
        name="collaborator-detail",
    ),
    path(
        f"{REPO}/immutability-rules/",
        immutability.RepositoryRuleListApi.as_view(),
        name="immutability-rule-list",
    ),
    path(
        f"{REPO}/immutability-rules/<str:rule_id>/",
        immutability.RepositoryRuleDetailApi.as_view(),
        name="immutability-rule-detail",
    ),
    path(f"{REPO}/compare/", compare.CompareApi.as_view(), name="repository-compare"),
    path(f"{REPO}/usage/", usage.RepositoryUsageApi.as_view(), name="repository-usage"),
    path(
        f"{REPO}/retention-policies/",
        retention.RepositoryPolicyListApi.as_view(),
        name="retention-policy-list",
    ),
    path(
        f"{REPO}/retention-policies/<str:policy_id>/",
        retention.RepositoryPolicyDetailApi.as_view(),
        name="retention-policy-detail",
    ),
    path(
        f"{REPO}/retention-policies/<str:policy_id>/run/",
        retention.RepositoryPolicyRunApi.as_view(),
        name="retention-policy-run",
    ),
    path(
        f"{REPO}/transfer/",
        transfers.RepositoryTransferApi.as_view(),
        name="repository-transfer",
    ),
    path(
        f"{REPO}/redirects/",
        transfers.RepositoryRedirectListApi.as_view(),
        name="repository-redirect-list",
    ),
    path(
        f"{REPO}/redirects/<str:redirect_id>/",
        transfers.RepositoryRedirectDetailApi.as_view(),
        name="repository-redirect-detail",
    ),
    path(f"{REPO}/", repositories.RepositoryDetailApi.as_view(), name="repository-detail"),
    path(
        "namespaces/<str:namespace>/immutability-rules/",
        immutability.NamespaceRuleListApi.as_view(),
        name="namespace-immutability-rule-list",
    ),
    path(
        "namespaces/<str:namespace>/immutability-rules/<str:rule_id>/",
        immutability.NamespaceRuleDetailApi.as_view(),
        name="namespace-immutability-rule-detail",
    ),
    path(
        "namespaces/<str:namespace>/usage/",
        usage.NamespaceUsageApi.as_view(),
        name="namespace-usage",
    ),
    path(
        "namespaces/<str:namespace>/quota/",
        usage.NamespaceQuotaApi.as_view(),
        name="namespace-quota",
    ),
    path(
        "namespaces/<str:namespace>/retention-policies/",
        retention.NamespacePolicyListApi.as_view(),
        name="namespace-retention-policy-list",
    ),
    path(
        "namespaces/<str:namespace>/retention-policies/<str:policy_id>/",
        retention.NamespacePolicyDetailApi.as_view(),
        name="namespace-retention-policy-detail",
    ),
    path(
        "namespaces/<str:namespace>/retention-policies/<str:policy_id>/run/",
        retention.NamespacePolicyRunApi.as_view(),
        name="namespace-retention-policy-run",
    ),
    path(
        "namespaces/<str:namespace>/signing-keys/",
        signing_keys.SigningKeyListApi.as_view(),
        name="signing-key-list",
    ),
    path(
        "namespaces/<str:namespace>/signing-keys/<str:key_id>/",
        signing_keys.SigningKeyDetailApi.as_view(),
        name="signing-key-detail",
    ),
    path(
        "namespaces/<str:namespace>/",
        organizations.NamespaceDetailApi.as_view(),
        name="namespace-detail",
    ),
    path("audit-log/", audit_log.AuditLogApi.as_view(), name="audit-log"),
    path("audit-log/export/", audit_log.AuditLogExportApi.as_view(), name="audit-log-export"),
    path("orgs/<str:name>/audit-log/", audit_log.OrgAuditLogApi.as_view(), name="org-audit-log"),
    path(
        "orgs/<str:name>/audit-log/export/",
        audit_log.OrgAuditLogExportApi.as_view(),
        name="org-audit-log-export",
    ),
    path("orgs/", organizations.OrganizationListApi.as_view(), name="org-list"),
    path("orgs/<str:name>/", organizations.OrganizationDetailApi.as_view(), name="org-detail"),
    path("orgs/<str:name>/members/", organizations.MemberListApi.as_view(), name="member-list"),
    path(
        "orgs/<str:name>/members/<str:username>/",
        organizations.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path(
        "orgs/<str:name>/invitations/",
        invitations.InvitationListApi.as_view(),
        name="invitation-list",
    ),
    path(
        "orgs/<str:name>/invitations/<str:invitation_id>/",
        invitations.InvitationDetailApi.as_view(),
        name="invitation-detail",
    ),
    path("orgs/<str:name>/teams/", teams.TeamListApi.as_view(), name="team-list"),
    path("orgs/<str:name>/teams/<str:team>/", teams.TeamDetailApi.as_view(), name="team-detail"),
    path(
        "orgs/<str:name>/teams/<str:team>/members/",
        teams.TeamMemberListApi.as_view(),
        name="team-member-list",
    ),
    path(
        "orgs/<str:name>/teams/<str:team>/members/<str:username>/",
        teams.TeamMemberDetailApi.as_view(),
        name="team-member-detail",
    ),
    path(
        "orgs/<str:name>/teams/<str:team>/repositories/",
        teams.TeamRepositoryListApi.as_view(),
        name="team-repository-list",
    ),
    path(
        "orgs/<str:name>/teams/<str:team>/repositories/<path:repository>/",
        teams.TeamRepositoryDetailApi.as_view(),
        name="team-repository-detail",
    ),
    path("orgs/<str:name>/robots/", robots.OrgRobotListApi.as_view(), name="org-robot-list"),
    path(
        "orgs/<str:name>/robots/<str:robot>/",
        robots.OrgRobotDetailApi.as_view(),
        name="org-robot-detail",
    ),
    path(
        "orgs/<str:name>/robots/<str:robot>/rotate/",
        robots.OrgRobotRotateApi.as_view(),
        name="org-robot-rotate",
    ),
    path("search/", search.SearchApi.as_view(), name="search"),
    path("access-tokens/", access_tokens.AccessTokenListApi.as_view(), name="access-token-list"),
    path(
        "access-tokens/<str:token_id>/",
        access_tokens.AccessTokenDetailApi.as_view(),
        name="access-token-detail",
    ),
]
