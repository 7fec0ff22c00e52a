"""Writes to signing keys. Every change bumps the covered namespaces' signing_keys_version,
which is what invalidates the cached signature verdicts (registry_api.models.SignatureCheck)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from hub.audit import audit_record
from hub.models import Namespace, SigningKey
from hub.signing_keys import KeyInvalid, key_fingerprint, key_public


def signing_keys_changed(*, namespace: Namespace | None) -> None:
    """Invalidate the verdicts a key of `namespace` (None: a registry-wide key) took part in."""
    covered = (
        Namespace.objects.all() if namespace is None else Namespace.objects.filter(pk=namespace.pk)
    )
    covered.update(signing_keys_version=F("signing_keys_version") + 1)


@transaction.atomic
def signing_key_add(
    *, namespace: Namespace | None, name: str, kind: str, pem: str, actor=None, request=None
) -> SigningKey:
    """Add a key after checking it parses as its kind; ValidationError names the bad field."""
    if kind not in SigningKey.Kind.values:
        raise ValidationError({"kind": _("Unknown key kind.")})
    if "\x00" in pem:  # the databases store no NUL in text
        raise ValidationError({"pem": _("Not a PEM key or certificate.")})
    try:
        public_key = key_public(kind, pem)
    except KeyInvalid as error:
        raise ValidationError({"pem": str(error)}) from error
    key = SigningKey(
        namespace=namespace,
        name=name,
        kind=kind,
        pem=pem.strip() + "\n",
        fingerprint=key_fingerprint(public_key),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    key.full_clean(exclude=["fingerprint"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError as error:
        raise ValidationError({"name": _("A key with this name exists already.")}) from error
    signing_keys_changed(namespace=namespace)
    audit_record(
        action="signing_key.add",
        actor=actor,
        request=request,
        target=namespace.name if namespace else "",
        namespace=namespace.name if namespace else "",
        data={"name": name, "kind": kind, "fingerprint": key.fingerprint},
    )
    return key


@transaction.atomic
def signing_key_delete(*, key: SigningKey, actor=None, request=None) -> None:
    namespace = key.namespace
    audit_record(
        action="signing_key.delete",
        actor=actor,
        request=request,
        target=namespace.name if namespace else "",
        namespace=namespace.name if namespace else "",
        data={"name": key.name, "fingerprint": key.fingerprint},
    )
    key.delete()
    signing_keys_changed(namespace=namespace)
