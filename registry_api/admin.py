from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.translation import gettext as _

from hub.admin_read_only import ReadOnlyAdmin
from hub.models import Repository
from registry_api.models import (
    Blob,
    BlobUpload,
    GcRun,
    ImmutabilityRule,
    Manifest,
    ManifestTombstone,
    ProxyCache,
    RepositoryBlob,
    RetentionPolicy,
    Tag,
    TagEvent,
)
from registry_api.proxy.services import (
    proxy_cache_expire,
    proxy_cache_save,
    proxy_cache_validate,
)
from registry_api.services import immutability


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


@admin.register(TagEvent)
class TagEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "repository",
        "tag",
        "action",
        "from_digest",
        "to_digest",
        "actor_name",
    ]
    list_filter = ["action"]
    search_fields = ["tag", "repository__name", "from_digest", "to_digest"]
    list_select_related = ["repository__namespace"]


@admin.register(ManifestTombstone)
class ManifestTombstoneAdmin(ReadOnlyAdmin):
    list_display = ["repository", "digest", "media_type", "deleted_at", "deleted_by"]
    search_fields = ["digest", "repository__name"]
    list_select_related = ["repository__namespace", "deleted_by"]
    exclude = ["payload", "blobs"]


@admin.register(BlobUpload)
class BlobUploadAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "repository", "offset", "created_at", "updated_at"]
    list_select_related = ["repository__namespace"]


class ProxyCacheForm(forms.ModelForm):
    """The upstream password is write-only: left blank on edit, the stored one is kept."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Upstream password or token. Leave blank to keep the current one.",
    )

    class Meta:
        model = ProxyCache
        fields = [
            "namespace",
            "upstream_url",
            "username",
            "password",
            "cache_ttl_seconds",
            "require_sign_in",
        ]
        help_texts = {
            "namespace": "Pulls of <namespace>/<name> are served from <upstream>/<name>.",
            "upstream_url": "The registry's base URL. Loopback, private and link-local addresses "
            "are refused unless MIRROR_ALLOW_PRIVATE_UPSTREAMS=true.",
            "cache_ttl_seconds": "How long a cached tag is served before it is revalidated "
            "with a HEAD request to the upstream.",
            "require_sign_in": "Only signed-in users may pull through this cache.",
        }

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and self.instance.pk:
            return self.instance.password
        return password

    def clean(self):
        cleaned = super().clean()
        try:
            proxy_cache_validate(
                namespace=cleaned.get("namespace", ""),
                upstream_url=cleaned.get("upstream_url", ""),
                instance=self.instance,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages)
        return cleaned


@admin.register(ProxyCache)
class ProxyCacheAdmin(admin.ModelAdmin):
    form = ProxyCacheForm
    list_display = [
        "namespace",
        "upstream_url",
        "username",
        "cache_ttl_seconds",
        "require_sign_in",
        "cached_repositories",
    ]
    list_filter = ["require_sign_in"]
    search_fields = ["namespace", "upstream_url"]
    actions = ["expire_cached_tags"]

    @admin.display(description="cached repositories")
    def cached_repositories(self, obj) -> int:
        return (
            Repository.objects.filter(namespace__name=obj.namespace).exclude(mirror_of="").count()
        )

    def save_model(self, request, obj, form, change) -> None:
        proxy_cache_save(proxy_cache=obj)

    @admin.action(description="Revalidate cached tags on their next pull")
    def expire_cached_tags(self, request, queryset) -> None:
        count = sum(proxy_cache_expire(proxy_cache=proxy_cache) for proxy_cache in queryset)
        self.message_user(request, f"{count} cached tag(s) will be revalidated on their next pull.")


class ImmutabilityRuleForm(forms.ModelForm):
    class Meta:
        model = ImmutabilityRule
        fields = ["repository", "namespace", "pattern"]
        help_texts = {
            "repository": "One repository, or leave empty and choose a namespace.",
            "namespace": "Every repository of the namespace (leave the repository empty).",
            "pattern": 'A glob ("v*", "release-*", "*" for all tags) or "re:<regex>", searched '
            "in the tag name (anchor it: re:^v\\d+$).",
        }

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("repository")) == bool(cleaned.get("namespace")):
            raise ValidationError("Choose a repository or a namespace, not both.")
        try:
            cleaned["pattern"] = immutability.pattern_validate(cleaned.get("pattern", ""))
        except ValidationError as exc:
            self.add_error("pattern", exc.message_dict["pattern"])
        return cleaned


@admin.register(ImmutabilityRule)
class ImmutabilityRuleAdmin(admin.ModelAdmin):
    """Rules are added and lifted through the service (audit log); a rule is never edited: lift
    it and add another."""

    form = ImmutabilityRuleForm
    list_display = ["pattern", "repository", "namespace", "created_by", "created_at"]
    search_fields = ["pattern", "repository__name", "namespace__name"]
    list_select_related = ["repository__namespace", "namespace", "created_by"]
    autocomplete_fields = ["repository", "namespace"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        rule = immutability.rule_create(
            repository=form.cleaned_data.get("repository"),
            namespace=form.cleaned_data.get("namespace"),
            pattern=form.cleaned_data["pattern"],
            actor=request.user,
            request=request,
        )
        obj.pk = rule.pk

    def delete_model(self, request, obj) -> None:
        immutability.rule_delete(rule=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset:
            immutability.rule_delete(rule=rule, actor=request.user, request=request)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """Policies are edited here as in the UI and API; "Preview" and "Run now" are actions."""

    list_display = ["pk", "repository", "namespace", "enabled", "schedule", "last_run_at"]
    list_filter = ["enabled", "schedule"]
    search_fields = ["repository__name", "namespace__name"]
    list_select_related = ["repository__namespace", "namespace"]
    raw_id_fields = ["repository", "namespace", "created_by"]
    readonly_fields = ["created_at", "last_run_at", "last_result"]
    actions = ["preview", "run_now"]

    def save_model(self, request, obj, form, change) -> None:
        from registry_api.services import retention_policies

        if not obj.created_by_id:
            obj.created_by = request.user
        obj.save()  # validated by the form (the model's clean)
        action = "retention.policy_update" if change else "retention.policy_create"
        retention_policies.policy_audit(action, obj, request.user)

    def delete_model(self, request, obj) -> None:
        from registry_api.services.retention_policies import retention_policy_delete

        retention_policy_delete(policy=obj, actor=request.user)

    def _report(self, request, queryset, dry_run: bool) -> None:
        from registry_api.services.retention import retention_run

        for policy in queryset:
            result = retention_run(policy, dry_run=dry_run, actor=request.user)
            verb = "would delete" if dry_run else "deleted"
            self.message_user(
                request,
                f"{policy}: {verb} {len(result.tags)} tag(s), {len(result.manifests)} "
                f"manifest(s), {result.freed_bytes} bytes freed.",
            )

    @admin.action(description="Preview (dry run)")
    def preview(self, request, queryset):
        self._report(request, queryset, dry_run=True)

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        self._report(request, queryset, dry_run=False)


@admin.register(GcRun)
class GcRunAdmin(ReadOnlyAdmin):
    """Every garbage collection, and a button that starts one: on Celery (a worker runs it;
    with CELERY_TASK_ALWAYS_EAGER, as a small instance may set, inline in this request)."""

    list_display = [
        "started_at", "trigger", "dry_run", "blobs_freed", "freed", "links_dropped",
        "tombstones_expired", "uploads_purged", "storage_failures", "finished_at",
    ]  # fmt: skip
    list_filter = ["trigger", "dry_run"]

    @admin.display(description=_("bytes freed"), ordering="bytes_freed")
    def freed(self, obj: GcRun) -> str:
        return filesizeformat(obj.bytes_freed)

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_view), name="registry_api_gcrun_run")
        return [run, *super().get_urls()]

    def run_view(self, request):
        from registry_api.services.gc import gc_summary
        from registry_api.tasks import garbage_collect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.is_superuser:
            raise PermissionDenied
        latest = GcRun.objects.first()
        dry_run = bool(request.POST.get("dry_run"))
        result = garbage_collect.apply_async(
            kwargs={"trigger": "admin", "actor_id": request.user.pk, "dry_run": dry_run}
        )
        run = GcRun.objects.first()
        if run is not None and run != latest and result.ready():
            summary = gc_summary(run)
            self.message_user(
                request,
                _("Garbage collection %(verb)s %(blobs)d blobs (%(bytes)s), %(links)d links, "
                  "%(tombstones)d tombstones, %(uploads)d upload sessions.")
                % {
                    "verb": _("would free") if dry_run else _("freed"),
                    "blobs": summary["blobs_freed"], "bytes": filesizeformat(run.bytes_freed),
                    "links": summary["links_dropped"], "tombstones": summary["tombstones_expired"],
                    "uploads": summary["uploads_purged"],
                },
                messages.WARNING if run.errors else messages.SUCCESS,
            )  # fmt: skip
        elif result.ready() and result.get() is None:
            self.message_user(
                request, _("Another garbage collection is running."), messages.WARNING
            )
        else:
            self.message_user(
                request, _("Garbage collection started; its run appears here when it ends.")
            )
        return HttpResponseRedirect(reverse("admin:registry_api_gcrun_changelist"))
