"""deploy/, checked without a container engine: the Kubernetes manifests against the Kubernetes
schemas (kubernetes-validate, offline), the compose file against the Compose specification's
schema (as shipped in check-jsonschema), the Dockerfile's shape, every role's command against
our own CLI, and the settings reference against the settings the code reads."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.cli.main import parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.30.0"
SETTINGS_SOURCE = ROOT / "services" / "platform" / "settings.py"


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


MANIFESTS = _manifests()


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in MANIFESTS if doc["kind"] == kind}


def _parses(args: list[str]) -> None:
    """A container's command is one our CLI accepts (a typo would fail at deploy time)."""
    try:
        parser().parse_args(args)
    except SystemExit as exc:  # argparse exits on bad arguments
        raise AssertionError(f"`ballotdesk {' '.join(args)}` is not a valid command") from exc


@pytest.mark.parametrize(("name", "doc"), MANIFESTS, ids=[n for n, _ in MANIFESTS])
def test_every_kubernetes_manifest_is_valid_against_the_schema(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_validator_rejects_a_broken_manifest() -> None:
    broken = json.loads(json.dumps(_by_kind("Deployment")["ballotdesk-api"]))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = json.loads(json.dumps(_by_kind("Deployment")["ballotdesk-api"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_set_has_every_role_probe_budget_and_autoscaler() -> None:
    deployments = _by_kind("Deployment")
    assert set(deployments) == {"ballotdesk-api", "ballotdesk-worker", "ballotdesk-scheduler"}
    assert set(_by_kind("Service")) == {"ballotdesk-api"}
    assert set(_by_kind("ConfigMap")) == {"ballotdesk"}
    assert "ballotdesk" in _by_kind("Secret")
    assert set(_by_kind("Job")) == {"ballotdesk-migrate"}
    autoscalers = {doc["spec"]["scaleTargetRef"]["name"] for doc in _by_kind("HorizontalPodAutoscaler").values()}
    assert autoscalers == {"ballotdesk-api", "ballotdesk-worker"}
    assert _by_kind("PodDisruptionBudget")

    api = deployments["ballotdesk-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    port = api["ports"][0]["containerPort"]
    assert api["args"][api["args"].index("--port") + 1] == str(port)

    job = _by_kind("Job")["ballotdesk-migrate"]["spec"]["template"]["spec"]
    pods = [d["spec"]["template"]["spec"] for d in deployments.values()] + [job]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            refs = {ref.get("configMapRef", ref.get("secretRef", {})).get("name") for ref in container["envFrom"]}
            assert refs == {"ballotdesk"}
            _parses(container["args"])
    assert job["containers"][0]["args"] == ["migrate"]


def _settings_variables() -> set[str]:
    return set(re.findall(r'_env\("(BALLOTDESK_[A-Z_]+)"', SETTINGS_SOURCE.read_text()))


def test_every_setting_is_documented_and_configured_for_kubernetes() -> None:
    variables = _settings_variables()
    assert {"BALLOTDESK_DATABASE_URL", "BALLOTDESK_SECRET_KEY", "BALLOTDESK_ENV"} <= variables
    reference = (DEPLOY / "ENVIRONMENT.md").read_text()
    example = (DEPLOY / "env.example").read_text()
    configured = set(_by_kind("ConfigMap")["ballotdesk"]["data"]) | set(_by_kind("Secret")["ballotdesk"]["stringData"])
    for name in sorted(variables):
        assert f"| `{name}` |" in reference, f"{name} is missing from deploy/ENVIRONMENT.md"
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} is missing from deploy/env.example"
        assert name in configured, f"{name} is in neither the k8s ConfigMap nor the Secret"
    assert _by_kind("ConfigMap")["ballotdesk"]["data"]["BALLOTDESK_ENV"] == "production"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _compose_schema() -> dict[str, Any]:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    loaded: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    broken = _compose()
    broken["services"]["api"]["healthchek"] = broken["services"]["api"].pop("healthcheck")
    broken["services"]["worker"]["deploy"]["replicas"] = [2]
    assert len(list(validator.iter_errors(broken))) == 2, "the schema must catch a misspelt key and a wrong type"


def test_the_compose_stack_has_every_role_with_health_checks() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "rabbitmq", "migrate", "api", "worker", "scheduler"} <= set(services)
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert services["api"]["deploy"]["replicas"] == 2 and services["worker"]["deploy"]["replicas"] == 2
    for name in ("postgres", "redis", "rabbitmq", "api", "worker", "scheduler"):
        assert services[name]["healthcheck"]["test"], name
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])
    for name in ("migrate", "api", "worker", "scheduler"):
        service = services[name]
        assert service["image"] == "ballotdesk:latest"
        assert service["environment"]["BALLOTDESK_ENV"] == "production"
        _parses(service["command"])
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    names_in_env = set(services["api"]["environment"])
    assert _settings_variables() - {"BALLOTDESK_REDELIVER_SECONDS", "BALLOTDESK_TOKEN_CACHE_SECONDS"} <= names_in_env


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_is_slim_runs_as_a_non_root_user_and_serves_every_role() -> None:
    instructions = _dockerfile()
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    final = instructions[stages[-1] :]
    assert re.match(r"python:3\.1[1-9]-slim\b", final[0][1])
    users = [arg for op, arg in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    entrypoint = json.loads(next(arg for op, arg in final if op == "ENTRYPOINT"))
    assert entrypoint == ["ballotdesk"]
    _parses(json.loads(next(arg for op, arg in final if op == "CMD")))
    for op, arg in instructions:
        if op == "COPY" and not arg.startswith("--from"):
            for source in shlex.split(arg)[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert all(op != "ADD" for op, _ in instructions)
