"""What the OpenAPI document promises (issue 12, item 13): request bodies refuse unknown fields
(`additionalProperties: false`, as the server does), ids are integers from 1 to 2^31-1 (the
PostgreSQL column) and an id outside them is a 4xx problem, never a 500, and the Swagger page
loads no script from another site.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from schemas import api
from tests.world import ADMIN, World, ok

PROBLEM = "application/problem+json"
INT32_MAX = 2_147_483_647


async def document(client: Any) -> dict[str, Any]:
    return await ok(await client.get("/schema/openapi.json"))  # type: ignore[no-any-return]


def _request_structs() -> list[type[msgspec.Struct]]:
    return [
        c for c in vars(api).values() if isinstance(c, type) and issubclass(c, api.Request) and c is not api.Request
    ]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
    return schema


def _objects_under(doc: dict[str, Any], schema: dict[str, Any], seen: set[int]) -> list[dict[str, Any]]:
    """Every object schema a JSON request body can contain."""
    schema = _resolve(doc, schema)
    if id(schema) in seen:
        return []
    seen.add(id(schema))
    found = [schema] if schema.get("type") == "object" or "properties" in schema else []
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            found += _objects_under(doc, sub, seen)
    for sub in schema.get("properties", {}).values():
        found += _objects_under(doc, sub, seen)
    if isinstance(schema.get("items"), dict):
        found += _objects_under(doc, schema["items"], seen)
    return found


async def test_every_json_request_body_refuses_unknown_fields_in_the_document_and_on_the_wire(client: Any) -> None:
    doc = await document(client)
    bodies = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            bodies += 1
            for obj in _objects_under(doc, content["application/json"]["schema"], set()):
                assert obj.get("additionalProperties") is False, f"{method.upper()} {path}: {obj}"
    assert bodies >= 15
    # The server agrees: an unknown field is refused.
    refused = await client.post(
        "/api/v1/member-bodies", json={"code": "XX", "acronym": "X", "name": "X", "typo": 1}, headers=ADMIN
    )
    assert refused.status_code in (400, 422) and refused.headers["content-type"].startswith(PROBLEM)
    assert all(s.__struct_config__.forbid_unknown_fields for s in _request_structs())


async def test_ids_are_declared_from_1_to_2_31_minus_1(client: Any) -> None:
    doc = await document(client)
    path_ids = 0
    for path, item in doc["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and schema.get("type") == "integer":
                    path_ids += 1
                    assert (schema.get("minimum"), schema.get("maximum")) == (1, INT32_MAX), (path, parameter)
    assert path_ids >= 20
    for name in ("ProjectCreate", "BallotCreate", "CommitteeCreate", "RoleIn"):
        schema = doc["components"]["schemas"][name]
        for field, spec in schema["properties"].items():
            if field.endswith("_id"):
                # For `int | None` the bounds may stand beside the oneOf (they apply to numbers only).
                integer = next(o for o in spec.get("oneOf", [spec]) if o.get("type") == "integer")
                bounds = {**spec, **integer}
                assert (bounds.get("minimum"), bounds.get("maximum")) == (1, INT32_MAX), (name, field)


async def test_ids_out_of_range_are_a_4xx_problem_never_a_500(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    doc = await document(client)
    tried = 0
    for huge in (INT32_MAX + 1, 2**63, 0, -1):
        for path, item in doc["paths"].items():
            names = re.findall(r"\{(\w+)\}", path)
            if not any(n.endswith("_id") for n in names):
                continue
            concrete = path
            for n in names:
                value = huge if n.endswith("_id") else "DE"
                concrete = concrete.replace("{" + n + "}", str(value))
            for method in item:
                if method not in ("get", "put", "post", "delete", "patch"):
                    continue
                response = await client.request(method.upper(), concrete, headers=ADMIN, json={})
                tried += 1
                assert 400 <= response.status_code < 500, f"{method.upper()} {concrete}: {response.status_code}"
                assert response.headers["content-type"].startswith(PROBLEM), (concrete, response.text[:200])
        # Ids inside request bodies too.
        for url, body in (
            ("/api/v1/projects", {"committee_id": huge, "reference": "ISO 1", "title": "T", "deliverable": "IS"}),
            ("/api/v1/ballots", {"project_id": huge, "type": "DIS"}),
        ):
            response = await client.post(url, json=body, headers=ADMIN)
            tried += 1
            assert 400 <= response.status_code < 500, f"POST {url} {huge}: {response.status_code} {response.text[:200]}"
    assert tried > 80
    assert (await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)).status_code == 200


async def test_the_swagger_page_loads_no_script_or_style_from_another_site(client: Any) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    html = page.text
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert sources, html[:500]
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100, source
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
