"""Dockyard's admin site: its own header, users beside groups, and a dashboard of counts."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from hub.selectors_admin import dashboard_counts


class DockyardAdminSite(admin.AdminSite):
    site_header = _("Dockyard administration")
    site_title = _("Dockyard administration")
    index_title = _("Dockyard administration")

    def get_app_list(self, request, app_label=None):
        """Groups sit with the users (hub), not alone in "Authentication and Authorization"."""
        apps = super().get_app_list(request, app_label)
        auth = next((app for app in apps if app["app_label"] == "auth"), None)
        hub = next((app for app in apps if app["app_label"] == "hub"), None)
        if auth is not None and hub is not None:
            hub["models"] = sorted(hub["models"] + auth["models"], key=lambda m: m["name"])
            apps.remove(auth)
        return apps

    def get_urls(self):
        dashboard = path("dashboard/", self.admin_view(self.dashboard), name="dashboard")
        return [dashboard, *super().get_urls()]

    def dashboard(self, request):
        context = {
            **self.each_context(request),
            "title": _("Dashboard"),
            "counts": dashboard_counts(),
        }
        return TemplateResponse(request, "admin/dashboard.html", context)


class DockyardAdminConfig(AdminConfig):
    default_site = "hub.admin_site.DockyardAdminSite"
