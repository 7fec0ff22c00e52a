from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models

from hub.forms import ThrottledAdminAuthenticationForm
from hub.models import (
    AccessToken,
    Collaborator,
    Comment,
    Membership,
    Namespace,
    Organization,
    Repository,
    Star,
    Team,
    TeamRepository,
    User,
)

# Password guessing against staff is throttled like any other sign-in.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "is_superuser", "date_joined"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "verified_publisher", "sponsored", "created_at"]
    list_filter = ["verified_publisher", "sponsored"]
    search_fields = ["name", "display_name"]
    fields = [
        "name",
        "display_name",
        "description",
        "website",
        "verified_publisher",
        "sponsored",
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


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_private", "star_count", "pull_count", "mirror_of", "updated_at"]
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
