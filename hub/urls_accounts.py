"""Accounts, organizations, access tokens and the registry token service."""

from django.urls import path

from hub import oidc_views
from hub.views import (
    accounts,
    audit_log,
    invitations,
    organizations,
    publishers,
    robots,
    signing_keys,
    teams,
    token_service,
)

app_name = "accounts"

urlpatterns = [
    path("auth/token", token_service.token, name="token"),
    path(".well-known/jwks.json", token_service.jwks_view, name="jwks"),
    # Before django.contrib.auth.urls (mounted at accounts/): the throttled sign-in and the reset
    # that mails links on SITE_URL win.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    # Ends an OpenID Connect session at the provider too (RP-initiated logout).
    path("accounts/logout/", oidc_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/password_reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path("accounts/invite/<str:token>/", invitations.invite, name="invite"),
    path("accounts/email/confirm/<str:token>/", accounts.email_confirm, name="email-confirm"),
    path("settings/", accounts.settings_index, name="settings"),
    path("settings/profile/", accounts.profile_edit, name="profile-edit"),
    path("settings/email/", accounts.email_change, name="email-change"),
    path("settings/tokens/", accounts.tokens, name="tokens"),
    path("settings/security-log/", audit_log.security_log, name="security-log"),
    path("settings/tokens/<int:pk>/revoke/", accounts.token_revoke, name="token-revoke"),
    path("settings/signing-keys/", signing_keys.signing_key_index, name="signing-keys"),
    path(
        "settings/signing-keys/<int:key_id>/delete/",
        signing_keys.signing_key_remove,
        name="signing-key-delete",
    ),
    path(
        "orgs/<str:namespace>/signing-keys/",
        signing_keys.signing_key_index,
        name="org-signing-keys",
    ),
    path(
        "orgs/<str:namespace>/signing-keys/<int:key_id>/delete/",
        signing_keys.signing_key_remove,
        name="org-signing-key-delete",
    ),
    path("settings/robots/", robots.robot_index, name="robots"),
    path("settings/robots/<str:robot>/", robots.robot_detail, name="robot"),
    path("settings/robots/<str:robot>/rotate/", robots.robot_rotate_view, name="robot-rotate"),
    path("settings/robots/<str:robot>/delete/", robots.robot_delete_view, name="robot-delete"),
    path("orgs/<str:namespace>/robots/", robots.robot_index, name="org-robots"),
    path("orgs/<str:namespace>/robots/<str:robot>/", robots.robot_detail, name="org-robot"),
    path(
        "orgs/<str:namespace>/robots/<str:robot>/rotate/",
        robots.robot_rotate_view,
        name="org-robot-rotate",
    ),
    path(
        "orgs/<str:namespace>/robots/<str:robot>/delete/",
        robots.robot_delete_view,
        name="org-robot-delete",
    ),
    path("orgs/new/", organizations.organization_new, name="org-create"),
    path("orgs/<str:namespace>/profile/", publishers.organization_profile, name="org-profile"),
    path("orgs/<str:namespace>/members/", organizations.members, name="org-members"),
    path(
        "orgs/<str:namespace>/audit-log/",
        audit_log.organization_audit_log,
        name="org-audit-log",
    ),
    path(
        "orgs/<str:namespace>/members/<str:username>/",
        organizations.member_change,
        name="org-member-change",
    ),
    path(
        "orgs/<str:namespace>/invitations/",
        organizations.invitation_new,
        name="org-invitation-create",
    ),
    path(
        "orgs/<str:namespace>/invitations/<uuid:invitation_id>/revoke/",
        organizations.invitation_withdraw,
        name="org-invitation-revoke",
    ),
    path("orgs/<str:namespace>/teams/", teams.team_index, name="org-teams"),
    path("orgs/<str:namespace>/teams/<str:team>/", teams.team_detail, name="org-team"),
    path(
        "orgs/<str:namespace>/teams/<str:team>/delete/", teams.team_delete, name="org-team-delete"
    ),
    path(
        "orgs/<str:namespace>/teams/<str:team>/members/",
        teams.team_member_add,
        name="org-team-member-add",
    ),
    path(
        "orgs/<str:namespace>/teams/<str:team>/members/<str:username>/remove/",
        teams.team_member_remove,
        name="org-team-member-remove",
    ),
    path(
        "orgs/<str:namespace>/teams/<str:team>/repositories/",
        teams.team_grant,
        name="org-team-grant",
    ),
]
