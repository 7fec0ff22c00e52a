"""The package seam of tag comparisons (registry_api.selectors.compare).

`packages_for` answers "which packages, at which versions, does this image hold?" for one image
manifest (a platform's image, never an index). It returns None while no package data is known
for an image, and the comparison then leaves its package section out (null in the API). The
registry knows no packages itself: the portal and the REST API pass the scanner's
(scanning.selectors.manifest_packages) as `image_compare(packages=...)`.
"""

from __future__ import annotations

from registry_api.models import Manifest


def packages_for(manifest: Manifest) -> dict[str, str] | None:
    """Return the image's packages as name → version, or None when they are not known."""
    return None
