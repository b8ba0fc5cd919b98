"""The OpenAPI document of the api. Its bodies are read by hand (``workers.api.body``: limits
first), so FastAPI cannot see them; their schemas are put in here from the one definition the
tasks validate with: the scoring records' from ``tasks.accounts.signals.json_schema`` (the
schema docs/scoring-payload.schema.json holds), the documents' from ``tasks.evidence.ingest``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tasks.accounts.signals import json_schema
from tasks.evidence.ingest import Document
from tasks.messages import AppealDecision

COMPONENTS = "#/components/schemas/"


def payload_schemas() -> dict[str, Any]:
    """The schemas of the request bodies and of every type they refer to, by name."""
    scoring = json_schema()
    defs: dict[str, Any] = dict(scoring["$defs"])
    defs["ScoringBody"] = {
        "title": "ScoringBody",
        "type": "object",
        "required": ["accounts"],
        "properties": {"accounts": scoring["properties"]["accounts"]},
    }
    document = Document.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(document.pop("$defs", {}))
    defs["Document"] = document
    envelope = {"type": "array", "items": {"$ref": "#/$defs/Document"}}
    defs["DocumentsBody"] = {
        "title": "DocumentsBody",
        "type": "object",
        "required": ["documents"],
        "properties": {"documents": {**envelope, "minItems": 1, "maxItems": 1000}},
    }
    defs["AppealDecision"] = AppealDecision.model_json_schema()
    # Every reference made within the payload schemas points into the OpenAPI components.
    text = orjson.dumps(defs).decode().replace('"#/$defs/', f'"{COMPONENTS}')
    found: dict[str, Any] = orjson.loads(text)
    return found


def request_body(name: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose JSON body is the component ``name``."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": COMPONENTS + name}}},
        }
    }


def openapi(app: FastAPI) -> dict[str, Any]:
    """The document served at /openapi.json, made once."""
    if app.openapi_schema is None:
        document = get_openapi(
            title="bulkguard api",
            version="1",
            description="Send account signals, documents and appeal decisions: docs/api.md.",
            routes=app.routes,
        )
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(payload_schemas())
        components["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "bulkguard api-keys"}
        }
        app.openapi_schema = document
    return app.openapi_schema
