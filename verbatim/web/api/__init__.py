"""The JSON API under ``/api/v1``, for scripts (R, Python, a survey platform): a FastAPI application of its own,
mounted by :func:`verbatim.web.app.create_app`, described by its OpenAPI schema (``/api/v1/openapi.json``) and a
French page listing the endpoints (``/api/v1/docs``). Every endpoint needs ``Authorization: Bearer TOKEN``; the
routes call the same functions as the browser's pages (:mod:`verbatim.web.actions`, :mod:`verbatim.web.downloads`).
"""

from verbatim.web.api.app import API_PREFIX, create_api

__all__ = ["API_PREFIX", "create_api"]
