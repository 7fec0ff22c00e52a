"""The /v2/ route table. Repository names contain slashes, so the name is matched greedily and
each route is anchored on its fixed suffix (as distribution's router does)."""

from django.urls import re_path

from registry_api.views import base, blobs, catalog, manifests, referrers, tags, uploads

app_name = "registry"

NAME = r"(?P<name>[a-z0-9][a-z0-9._/-]*)"

urlpatterns = [
    re_path(r"^$", base.ping, name="base"),
    re_path(r"^_catalog/?$", catalog.catalog_get, name="catalog"),
    re_path(rf"^{NAME}/tags/list/?$", tags.tags_list, name="tags"),
    re_path(rf"^{NAME}/manifests/(?P<reference>[^/]+)$", manifests.manifest, name="manifest"),
    re_path(rf"^{NAME}/blobs/uploads/?$", uploads.upload_start, name="upload-start"),
    re_path(rf"^{NAME}/blobs/uploads/(?P<upload_id>[^/]+)$", uploads.upload, name="upload"),
    re_path(rf"^{NAME}/blobs/(?P<digest>[^/]+)$", blobs.blob, name="blob"),
    re_path(rf"^{NAME}/referrers/(?P<digest>[^/]+)$", referrers.referrers_get, name="referrers"),
    # Any character, a newline too (a decoded %0A): otherwise nothing matched and the portal's
    # 404 page, which the registry's URL table cannot render, answered 500.
    re_path(r"^(?s:.*)$", base.not_found, name="not-found"),
]
