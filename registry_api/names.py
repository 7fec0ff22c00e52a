"""Registry repository names: `<namespace>/<name>` where name may itself contain slashes."""

from __future__ import annotations

from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE, name_canonical
from registry_api.errors import NameInvalid

# distribution-spec: the full name (with slashes) must stay under 256 characters.
MAX_NAME_LENGTH = 255


def repository_resolve(full_name: str) -> tuple[str, str]:
    """Split `alice/tools/app` into ("alice", "tools/app"); raise NameInvalid if malformed.

    The first path component is the hub Namespace, the rest is Repository.name. A name with a
    single component (`centos`) is an official image, `library/centos`, as on Docker Hub.
    """
    if len(full_name) > MAX_NAME_LENGTH or not REPOSITORY_PATH_RE.fullmatch(full_name):
        raise NameInvalid({"name": full_name[:MAX_NAME_LENGTH]})
    canonical = name_canonical(full_name)
    namespace, _, name = canonical.partition("/")
    # `library/` makes a long single name longer: the stored name must still fit.
    if not name or len(canonical) > MAX_NAME_LENGTH or not PATH_COMPONENT_RE.fullmatch(namespace):
        raise NameInvalid({"name": full_name})
    return namespace, name
