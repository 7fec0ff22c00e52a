from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils.html import escape

from hub.admin_read_only import ReadOnlyAdmin
from hub.forms import ThrottledAdminAuthenticationForm
from hub.models import (
    AccessToken,
    AuditEntry,
    Collaborator,
    Comment,
    DirectoryGrant,
    EmailChange,
    Invitation,
    Membership,
    Namespace,
    NamespaceQuota,
    OIDCIdentity,
    Organization,
    Repository,
    Robot,
    RobotPermission,
    SigningKey,
    Star,
    Team,
    TeamRepository,
    User,
)
from hub.services.invitations import (
    invitation_create,
    invitation_revoke,
    invitation_send,
    invitation_url,
)
from hub.services.mail import MailNotSent
from hub.services.signing_keys import signing_key_delete, signing_keys_changed
from hub.signing_keys import KeyInvalid, key_fingerprint, key_public

# Password guessing against staff is throttled like any other sign-in.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "is_superuser", "date_joined"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The admin renders help texts as HTML: "<username>/<repository>" would vanish as tags.
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "username":
            field.help_text = escape(field.help_text)
        return field


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "verified_publisher", "sponsored", "created_at"]
    list_filter = ["verified_publisher", "sponsored", "pull_rate_limit_exempt"]
    search_fields = ["name", "display_name"]
    fields = [
        "name",
        "display_name",
        "description",
        "website",
        "verified_publisher",
        "sponsored",
        "pull_rate_limit_exempt",
        "created_at",
    ]
    inlines = [MembershipInline]
    # A website typed without a scheme is an https:// one (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "user", "organization"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["user", "organization"]


@admin.register(NamespaceQuota)
class NamespaceQuotaAdmin(admin.ModelAdmin):
    """Administrators set quotas here or by the REST API; both write through quota_set (audit)."""

    list_display = ["namespace", "limit_bytes", "effective_limit", "used", "warned_percent"]
    search_fields = ["namespace__name"]
    autocomplete_fields = ["namespace"]
    readonly_fields = ["warned_percent", "updated_at"]
    fields = ["namespace", "limit_bytes", "warned_percent", "updated_at"]

    @admin.display(description="limit in force")
    def effective_limit(self, quota):
        from registry_api.services.quotas import bytes_human, quota_limit

        limit = quota_limit(quota.namespace)
        return bytes_human(limit) if limit else "unlimited"

    @admin.display(description="used (stored bytes)")
    def used(self, quota):
        from registry_api.selectors.usage import namespace_stored_bytes
        from registry_api.services.quotas import bytes_human

        return bytes_human(namespace_stored_bytes(quota.namespace))

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "namespace"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        from registry_api.services.quotas import quota_set

        saved = quota_set(
            namespace=obj.namespace,
            limit_bytes=obj.limit_bytes,
            actor=request.user,
            request=request,
        )
        obj.pk = saved.pk


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "is_private", "star_count", "pull_count", "stored_bytes", "mirror_of",
        "updated_at",
    ]  # fmt: skip
    readonly_fields = ["logical_bytes", "stored_bytes", "exclusive_bytes", "usage_updated_at"]

    @admin.display(description="exclusive bytes")
    def exclusive_bytes(self, repository):
        from registry_api.services.usage import repository_exclusive_bytes

        return repository_exclusive_bytes(repository) if repository.pk else 0

    list_filter = ["is_private", "comments_enabled", "namespace__kind"]
    search_fields = ["name", "namespace__name", "description"]
    list_select_related = ["namespace"]
    autocomplete_fields = ["namespace"]
    inlines = [CollaboratorInline]


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ["repository", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["repository__name", "user__username"]
    list_select_related = ["repository__namespace", "user"]


@admin.register(Star)
class StarAdmin(admin.ModelAdmin):
    list_display = ["repository", "user", "created_at"]
    search_fields = ["repository__name", "user__username"]
    list_select_related = ["repository__namespace", "user"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["repository", "author", "created_at", "edited_at"]
    search_fields = ["body", "author__username", "repository__name"]
    list_select_related = ["repository__namespace", "author"]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "user",
        "token_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["label", "user__username", "token_prefix"]
    readonly_fields = ["token_hash", "token_prefix", "last_used_at"]


class TeamRepositoryInline(admin.TabularInline):
    model = TeamRepository
    extra = 0
    autocomplete_fields = ["repository"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "members"]
    inlines = [TeamRepositoryInline]


class InvitationAdminForm(forms.ModelForm):
    send_email = forms.BooleanField(
        required=False, initial=True, help_text="Mail the link to the address (if one is given)."
    )

    class Meta:
        model = Invitation
        fields = ["organization", "email", "role"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("organization") and cleaned.get("role") == "owner":
            self.add_error("role", "A site-wide invitation joins no organization: choose member.")
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Administrators invite from here, site-wide (no organization) or into one; the link is
    shown once in a message, and mailed when asked."""

    form = InvitationAdminForm
    list_display = ["__str__", "status", "created_by", "created_at", "expires_at", "used_by"]
    list_filter = ["role", "organization"]
    search_fields = ["email", "organization__name", "created_by__username", "used_by__username"]
    list_select_related = ["organization", "created_by", "used_by"]
    autocomplete_fields = ["organization"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False  # an invitation is made, used or revoked; never edited

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        invitation, token = invitation_create(
            created_by=request.user,
            organization=data["organization"],
            email=data["email"],
            role=data["role"],
        )
        form.instance = invitation
        obj.pk, obj.uuid = invitation.pk, invitation.uuid
        if data["send_email"] and invitation.email:
            try:
                invitation_send(invitation=invitation, token=token)
            except MailNotSent as exc:
                messages.warning(request, exc.messages[0])
        messages.info(request, f"Invitation link (shown once): {invitation_url(token)}")

    @admin.action(description="Revoke the selected pending invitations")
    def revoke(self, request, queryset):
        for invitation in queryset:
            invitation_revoke(invitation=invitation)


@admin.register(EmailChange)
class EmailChangeAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "requested_at"]
    search_fields = ["user__username", "email"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log is written by services only: administrators read and filter it."""

    list_display = [
        "created_at",
        "actor_name",
        "actor_kind",
        "action",
        "target",
        "result",
        "client_address",
    ]
    list_filter = ["action", "result", "actor_kind"]
    search_fields = ["actor_name", "action", "target", "namespace", "request_id", "client_address"]
    date_hierarchy = "created_at"


class RobotPermissionInline(admin.TabularInline):
    model = RobotPermission
    extra = 0
    raw_id_fields = ["repository"]


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    """Administrators exempt robots from pull rate limits here; owners manage the rest in the
    portal or the REST API (the secret is rotated there, never set here)."""

    list_display = ["user", "namespace", "expires_at", "last_used_at", "pull_rate_limit_exempt"]
    list_filter = ["pull_rate_limit_exempt"]
    search_fields = ["user__username", "namespace__name"]
    readonly_fields = ["user", "namespace", "name", "created_by", "created_at", "last_used_at"]
    inlines = [RobotPermissionInline]


@admin.register(OIDCIdentity)
class OIDCIdentityAdmin(admin.ModelAdmin):
    """Which account an OpenID Connect subject signs in as: add one to link an existing local
    account (its name collided at first sign-in); delete one to unlink."""

    list_display = ["user", "issuer", "subject", "created_at", "last_sign_in_at"]
    search_fields = ["user__username", "subject"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]


@admin.register(DirectoryGrant)
class DirectoryGrantAdmin(ReadOnlyAdmin):
    """Memberships a directory group map granted (and removes when the group is left)."""

    list_display = ["user", "organization", "team", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["user__username", "organization__name"]
    list_select_related = ["user", "organization", "team"]


class SigningKeyAdminForm(forms.ModelForm):
    class Meta:
        model = SigningKey
        fields = ["namespace", "name", "kind", "pem"]
        help_texts = {"namespace": "Empty: a registry-wide key, trusted for every namespace."}

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("pem"):
            try:
                self.instance.fingerprint = key_fingerprint(key_public(data["kind"], data["pem"]))
            except KeyInvalid as error:
                self.add_error("pem", str(error))
        return data


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """Administrators add registry-wide keys here; every change invalidates cached verdicts."""

    form = SigningKeyAdminForm
    list_display = ["name", "namespace", "kind", "fingerprint", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "namespace__name", "fingerprint"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        previous = SigningKey.objects.filter(pk=obj.pk).values_list("namespace", flat=True).first()
        super().save_model(request, obj, form, change)
        signing_keys_changed(namespace=obj.namespace)
        if change and previous != obj.namespace_id:
            signing_keys_changed(namespace=Namespace.objects.filter(pk=previous).first())

    def delete_model(self, request, obj):
        signing_key_delete(key=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for key in queryset:
            signing_key_delete(key=key, actor=request.user, request=request)
