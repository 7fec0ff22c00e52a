"""Tags of mirrored repositories: what the upstream lists, with what the cache holds.

The upstream is asked on every listing (with the cache's credentials); when it cannot answer,
the cached tags are the answer (a warning in the log), as a stale manifest is for a pull. A
repository the upstream does not know lists what the cache still holds.
"""

from __future__ import annotations

import logging

from hub.names import TAG_RE
from registry_api.proxy.client import UpstreamClient, UpstreamError, UpstreamNotFound
from registry_api.proxy.errors import UpstreamUnavailable
from registry_api.proxy.repositories import mirror_repository_find
from registry_api.proxy.upstreams import Upstream
from registry_api.selectors.tags import tag_names

logger = logging.getLogger(__name__)


def tags_merged(*, full_name: str, upstream: Upstream, repository) -> list[str] | None:
    """Upstream and cached tag names, sorted; None when neither knows the repository."""
    repository = repository or mirror_repository_find(full_name=full_name, upstream=upstream)
    cached = tag_names(repository=repository)
    try:
        remote = UpstreamClient(upstream).tags_list()
    except UpstreamNotFound:
        if repository is None:
            return None
        remote = []
    except UpstreamError as exc:
        logger.warning("listing cached tags of %s only: %s", full_name, exc)
        if repository is None:
            raise UpstreamUnavailable({"reason": "the upstream did not answer"}) from exc
        remote = []
    # An upstream's odd name (too long, a slash) is not one a pull through us could use.
    return sorted(set(cached) | {name for name in remote if TAG_RE.match(name)})
