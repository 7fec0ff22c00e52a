"""A request body that ends early or breaks its chunked framing is the client's doing: a 400.

gunicorn raises NoMoreData / ChunkMissingTerminator / InvalidChunkSize from wsgi.input when a
chunked body stops short: the client went away, or config.http_worker cut it for sending too
slowly. Out of a view Django would answer 500 and log a traceback. The upload services have
already dropped the partial chunk when the exception gets here (the session keeps its offset).
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData

from config.registry_middleware import is_registry

UNREADABLE_BODY = (NoMoreData, ChunkMissingTerminator, InvalidChunkSize)


class UnreadableBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNREADABLE_BODY):
            return None
        if is_registry(request):
            from registry_api.endpoint import error_response
            from registry_api.errors import BlobUploadInvalid

            problem = BlobUploadInvalid(message="the request body ended early or is malformed")
            return error_response(request, problem)
        return HttpResponseBadRequest("The request body ended early or is malformed.\n")
