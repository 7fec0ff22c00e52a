from django.contrib import admin

from registry_api.models import Blob, BlobUpload, Manifest, ProxyCache, RepositoryBlob, Tag


class ReadOnlyAdmin(admin.ModelAdmin):
    """Registry content changes only through the protocol; the admin shows it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ["digest", "size", "created_at"]
    search_fields = ["digest"]


@admin.register(RepositoryBlob)
class RepositoryBlobAdmin(ReadOnlyAdmin):
    list_display = ["repository", "blob", "created_at"]
    search_fields = ["repository__name", "blob__digest"]
    list_select_related = ["repository__namespace", "blob"]


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    list_display = ["repository", "digest", "media_type", "size", "created_at"]
    list_filter = ["media_type"]
    search_fields = ["digest", "repository__name"]
    list_select_related = ["repository__namespace"]
    exclude = ["payload"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["repository", "name", "pushed_at", "pushed_by", "last_pulled_at"]
    search_fields = ["name", "repository__name"]
    list_select_related = ["repository__namespace", "pushed_by"]


@admin.register(BlobUpload)
class BlobUploadAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "repository", "offset", "created_at", "updated_at"]
    list_select_related = ["repository__namespace"]


@admin.register(ProxyCache)
class ProxyCacheAdmin(admin.ModelAdmin):
    list_display = ["namespace", "upstream_url", "cache_ttl_seconds", "require_sign_in"]
    search_fields = ["namespace", "upstream_url"]
