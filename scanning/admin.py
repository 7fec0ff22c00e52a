"""Admin: scan records read-only; advisories with an OSV upload page; scan policies editable."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from hub.admin_read_only import ReadOnlyAdmin
from scanning.models import Advisory, Finding, ImagePackage, ImageScan, ScanPolicy
from scanning.osv import OsvInvalid, osv_documents_read
from scanning.services.advisories import advisories_import

MAX_UPLOAD_BYTES = 1024**3


class OsvUploadForm(forms.Form):
    export = forms.FileField(label=_("OSV export (all.zip or .json)"))


@admin.register(Advisory)
class AdvisoryAdmin(ReadOnlyAdmin):
    list_display = ("osv_id", "severity", "modified", "summary")
    list_filter = ("severity",)
    search_fields = ("osv_id", "aliases", "packages__name")
    change_list_template = "admin/scanning/advisory/change_list.html"

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", upload, name="scanning_advisory_upload"), *super().get_urls()]

    def upload_view(self, request):
        if not request.user.is_superuser:
            return redirect("admin:index")
        form = OsvUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            export = form.cleaned_data["export"]
            if export.size > MAX_UPLOAD_BYTES:
                form.add_error("export", _("The file is too large."))
            else:
                with tempfile.TemporaryDirectory() as directory:
                    target = Path(directory) / "export"
                    with open(target, "wb") as writer:
                        for chunk in export.chunks():
                            writer.write(chunk)
                    try:
                        result = advisories_import(osv_documents_read(target))
                    except (OsvInvalid, ValueError, zipfile.BadZipFile) as exc:
                        form.add_error("export", _("Not an OSV export: %s") % exc)
                    else:
                        self.message_user(
                            request,
                            _("%(created)d new, %(updated)d updated advisories; "
                              "%(reevaluated)d images re-evaluated.") % vars(result),
                            messages.SUCCESS,
                        )  # fmt: skip
                        return redirect("admin:scanning_advisory_changelist")
        context = {**self.admin_site.each_context(request), "form": form,
                   "title": _("Upload OSV advisories"), "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/scanning/advisory/upload.html", context)


@admin.register(ImageScan)
class ImageScanAdmin(ReadOnlyAdmin):
    list_display = ("manifest", "status", "distro", "distro_version", "bytes_read", "truncated",
                    "scanned_at")  # fmt: skip


@admin.register(ImagePackage)
class ImagePackageAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "ecosystem", "manifest")
    search_fields = ("name", "purl")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("advisory", "package", "severity", "fixed_version", "first_seen_at")
    list_filter = ("severity",)


@admin.register(ScanPolicy)
class ScanPolicyAdmin(admin.ModelAdmin):
    list_display = ("repository", "refuse_critical_after_days")
    raw_id_fields = ("repository",)
