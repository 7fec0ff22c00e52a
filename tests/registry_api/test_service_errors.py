"""Services raise protocol-free refusals; the /v2/ edge and the REST API each map them once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from hub.apis.common import BaseApi
from registry_api import service_errors
from registry_api.errors import RegistryError, registry_error
from registry_api.services.manifests import manifest_validate


def _refusals(kind=service_errors.ServiceError):
    for sub in kind.__subclasses__():
        yield sub
        yield from _refusals(sub)


REFUSALS = list(_refusals())


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda kind: kind.__name__)
def test_every_refusal_has_an_oci_error_other_than_unknown(refusal):
    oci = registry_error(refusal({"x": 1}))
    assert oci.code != "UNKNOWN" and 400 <= oci.status < 500
    assert oci.as_json()["errors"][0] == {
        "code": oci.code,
        "message": refusal.message,
        "detail": {"x": 1},
    }


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda kind: kind.__name__)
def test_refusals_carry_no_http_status(refusal):
    assert not issubclass(refusal, RegistryError)
    assert not any(hasattr(refusal, name) for name in ("status", "status_code", "code"))


def test_manifest_too_large_is_413_manifest_invalid_on_v2_only_by_the_mapping(settings):
    settings.REGISTRY_MAX_MANIFEST_BYTES = 10
    with pytest.raises(service_errors.ManifestTooLarge) as excinfo:
        manifest_validate(reference="latest", body=b"{" + b" " * 20 + b"}", content_type=None)
    oci = registry_error(excinfo.value)
    assert (oci.code, oci.status) == ("MANIFEST_INVALID", 413)
    assert oci.detail == {"size": 22, "limit": 10}


@pytest.mark.parametrize(
    ("reference", "body", "refusal"),
    [
        ("-bad-tag", b"{}", service_errors.TagNameInvalid),
        ("sha384:" + "a" * 96, b"{}", service_errors.DigestMalformed),
        ("sha256:" + "a" * 64, b"{}", service_errors.ManifestDigestMismatch),
        ("latest", b"not json", service_errors.ManifestMalformed),
    ],
)
def test_manifest_validate_raises_refusals_not_protocol_errors(reference, body, refusal):
    with pytest.raises(refusal) as excinfo:
        manifest_validate(reference=reference, body=body, content_type=None)
    assert not isinstance(excinfo.value, RegistryError)


class _Refusing(BaseApi):
    refusal: service_errors.ServiceError | None = None

    def get(self, request):
        raise self.refusal


@pytest.mark.parametrize(
    ("refusal", "status", "body"),
    [
        (service_errors.ManifestTooLarge(), 413, {"detail": "manifest exceeds the size limit"}),
        (service_errors.TagNameInvalid(), 400, {"non_field_errors": ["invalid tag"]}),
        (
            service_errors.ManifestReferenceUnknown(message="index references a manifest unknown"),
            400,
            {"non_field_errors": ["index references a manifest unknown"]},
        ),
    ],
)
def test_rest_api_answers_refusals_as_drf_errors(refusal, status, body):
    view = _Refusing.as_view(refusal=refusal, authentication_classes=[], throttle_classes=[])
    response = view(APIRequestFactory().get("/api/v1/anything/"))
    assert response.status_code == status
    assert response.data == body
