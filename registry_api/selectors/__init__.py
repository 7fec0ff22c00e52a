"""Reads of the registry's records, one module per resource: repositories, tags, manifests, blobs
and uploads. Callers shape what they read (UI rows, REST and /v2/ bodies) next to their views."""
