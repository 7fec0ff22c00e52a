"""What a webhook receives: the Docker Hub-compatible body (default) or a CloudEvents 1.0 envelope.

Repository facts are captured when the event is published (`repository_snapshot`), so a payload
renders the same on every attempt and still renders after the repository is gone.

Quota events (`quota_warning` at 80 %, `quota_exceeded` at 100 % or on a refused push; hooks
subscribe to the kind `quota`) name the repository whose push crossed the threshold and carry
`{"namespace", "used_bytes", "limit_bytes", "percent"}`: in CloudEvents as `data` (type
io.dockyard.quota_warning), in the Docker Hub format as a top-level `quota` object beside
`action`, with push_data's tag and digest empty.

Scan events (`scan.vulnerabilities_found`, kind `scan`: a scan or an advisory import found new
critical vulnerabilities in an image) carry push_data's digest and tag (the image's first tag)
and a top-level `scan` object: `{"critical": n, "vulnerabilities": [OSV ids], "tags": [...]}`.
"""

from __future__ import annotations

import json

from django.conf import settings

from webhooks.models import Delivery, Webhook

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
JSON_CONTENT_TYPE = "application/json"
CLOUDEVENTS_TYPE_PREFIX = "io.dockyard."


def _epoch(value) -> int:
    return int(value.timestamp()) if value is not None else 0


def repository_snapshot(repository) -> dict:
    """The repository fields payloads report, as plain data."""
    namespace = repository.namespace
    return {
        "namespace": namespace.name,
        "name": repository.name,
        "owner": namespace.name,
        "is_private": repository.is_private,
        "is_organization": namespace.is_organization,
        "description": repository.description,
        "full_description": repository.full_description,
        "star_count": repository.star_count,
        "comment_count": repository.comments.count(),
        "pull_count": repository.pull_count,
        "date_created": _epoch(repository.created_at),
    }


def site_url(webhook: Webhook) -> str:
    return (settings.SITE_URL or webhook.site_url or "").rstrip("/")


def _repository_block(delivery: Delivery) -> dict:
    info = delivery.event.data.get("repository_info") or {}
    namespace, name = info.get("namespace", ""), info.get("name", "")
    return {
        "comment_count": info.get("comment_count", 0),
        "date_created": info.get("date_created", 0),
        "description": info.get("description", ""),
        "dockerfile": "",
        "full_description": info.get("full_description", ""),
        "is_official": False,
        "is_private": info.get("is_private", False),
        "is_trusted": False,
        "name": name,
        "namespace": namespace,
        "owner": info.get("owner", namespace),
        "repo_name": f"{namespace}/{name}",
        "repo_url": f"{site_url(delivery.webhook)}/r/{namespace}/{name}/",
        "star_count": info.get("star_count", 0),
        "status": "Active",
    }


def dockerhub_payload(delivery: Delivery) -> dict:
    """Docker Hub's push payload (docs.docker.com, "Webhooks": callback_url, push_data with
    pushed_at, pusher, tag and images, repository) plus push_data.digest and media_type.

    Other actions keep the same shape and add a top-level `action` so receivers can tell them apart.
    """
    event = delivery.event
    data = event.data
    repository = _repository_block(delivery)
    body = {
        "callback_url": f"{repository['repo_url']}-/webhooks/",
        "push_data": {
            "pushed_at": _epoch(event.created_at),
            "pusher": data.get("actor", ""),
            "tag": data.get("tag", ""),
            "images": [],
            "digest": data.get("digest", ""),
            "media_type": data.get("media_type", ""),
        },
        "repository": repository,
    }
    if event.action != "push":
        body["action"] = event.action
    if event.action.startswith("quota_"):
        body["quota"] = {
            key: data.get(key) for key in ("namespace", "used_bytes", "limit_bytes", "percent")
        }
    if event.action.startswith("scan."):
        body["scan"] = {key: data.get(key) for key in ("critical", "vulnerabilities", "tags")}
    return body


def cloudevents_payload(delivery: Delivery) -> dict:
    """A CloudEvents 1.0 structured-mode event; one id per event, shared by every hook."""
    event = delivery.event
    data = {key: value for key, value in event.data.items() if key != "repository_info"}
    repository = _repository_block(delivery)
    subject = repository["repo_name"]
    if data.get("tag"):
        subject += f":{data['tag']}"
    elif data.get("digest"):
        subject += f"@{data['digest']}"
    return {
        "specversion": "1.0",
        "id": str(event.uuid),
        "source": repository["repo_url"],
        "type": CLOUDEVENTS_TYPE_PREFIX + event.action,
        "subject": subject,
        "time": event.created_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": JSON_CONTENT_TYPE,
        "data": {**data, "repository": repository},
    }


def payload_render(delivery: Delivery) -> tuple[bytes, str]:
    """Return the request body and its Content-Type for one delivery."""
    if delivery.webhook.payload_format == Webhook.Format.CLOUDEVENTS:
        body, content_type = cloudevents_payload(delivery), CLOUDEVENTS_CONTENT_TYPE
    else:
        body, content_type = dockerhub_payload(delivery), JSON_CONTENT_TYPE
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode(), content_type
