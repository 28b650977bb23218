"""Deployment files without a cluster or a Docker daemon: Kubernetes manifests against the
Kubernetes JSON schemas (kubernetes-validate), the compose file against the compose-spec
schema (vendored here from the compose-spec project, Apache-2.0), the Dockerfile by parsing,
and every ``LOANWATCH_*`` variable they set against the settings loanwatch reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from detectors.policy import load_policy
from streams.settings import REPO_ROOT, Settings

K8S = REPO_ROOT / "deploy/k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays/production"
COMPOSE = REPO_ROOT / "deploy/compose"
DOCKERFILE = REPO_ROOT / "deploy/Dockerfile"
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.json")
K8S_VERSION = "1.30.0"
SETTINGS_VARIABLES = {f"LOANWATCH_{name.upper()}" for name in Settings.model_fields}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> dict[str, Any]:
    document = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert document["kind"] == "Kustomization"
    return dict(document)


def base_resources() -> list[dict[str, Any]]:
    return [doc for name in kustomization(BASE)["resources"] for doc in documents(BASE / name)]


def resource(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in base_resources() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def literals(generator: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in generator.get("literals", []))


def generators(directory: Path) -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in kustomization(directory).get("configMapGenerator", [])}


def worker_container() -> dict[str, Any]:
    spec = resource("StatefulSet", "loanwatch")["spec"]["template"]["spec"]
    return dict(spec["containers"][0])


# --- Kubernetes ---------------------------------------------------------------------------


MANIFESTS = sorted(
    [*(BASE / name for name in kustomization(BASE)["resources"]), BASE / "secret.example.yaml"]
)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_is_valid_against_the_kubernetes_schema(path: Path) -> None:
    docs = documents(path)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_schema_check_catches_a_mistake() -> None:
    statefulset = resource("StatefulSet", "loanwatch")
    broken = json.loads(json.dumps(statefulset))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(statefulset))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_every_file_a_kustomization_names_exists() -> None:
    for directory in (BASE, PRODUCTION):
        document = kustomization(directory)
        for name in document.get("resources", []):
            assert (directory / name).exists(), (directory, name)
        for patch in document.get("patches", []):
            assert (directory / patch["path"]).exists(), (directory, patch)
        for generator in document.get("configMapGenerator", []):
            for name in generator.get("files", []):
                assert (directory / name).exists(), (directory, name)
    assert kustomization(PRODUCTION)["resources"] == ["../../base"]


def test_the_production_patch_and_overrides_target_base_objects() -> None:
    document = kustomization(PRODUCTION)
    for patch in document["patches"]:
        target = patch["target"]
        resource(target["kind"], target["name"])
        body = yaml.safe_load((PRODUCTION / patch["path"]).read_text())
        assert (body["kind"], body["metadata"]["name"]) == (target["kind"], target["name"])
        containers = body["spec"]["template"]["spec"]["containers"]
        assert {c["name"] for c in containers} <= {worker_container()["name"]}
    for replicas in document["replicas"]:
        resource("StatefulSet", replicas["name"])
    workloads = [d for d in base_resources() if d["kind"] in {"StatefulSet", "Job"}]
    images = {c["image"].split(":")[0]
              for d in workloads for c in d["spec"]["template"]["spec"]["containers"]}  # fmt: skip
    assert {image["name"] for image in document["images"]} == images
    for name, generator in generators(PRODUCTION).items():
        assert generator["behavior"] == "merge" and name in generators(BASE)


def test_workers_keep_rocksdb_state_on_a_volume() -> None:
    settings = literals(generators(BASE)["loanwatch-settings"])
    assert settings["LOANWATCH_TABLE_STORE"] == "rocksdb://"
    statefulset = resource("StatefulSet", "loanwatch")
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in worker_container()["volumeMounts"]}
    assert mounts[settings["LOANWATCH_DATA_DIR"]] in claims


def test_the_policy_is_a_configmap_at_the_policy_path() -> None:
    policy_path = Path(literals(generators(BASE)["loanwatch-settings"])["LOANWATCH_POLICY_PATH"])
    files = generators(BASE)["loanwatch-policy"]["files"]
    assert files == [policy_path.name]
    load_policy(BASE / policy_path.name)  # a policy loanwatch accepts
    spec = resource("StatefulSet", "loanwatch")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mount = next(m for m in worker_container()["volumeMounts"]
                 if m["mountPath"] == str(policy_path.parent))  # fmt: skip
    assert volumes[mount["name"]]["configMap"]["name"] == "loanwatch-policy"


def test_credentials_come_from_the_secret_and_settings_from_the_configmap() -> None:
    secret = documents(BASE / "secret.example.yaml")[0]
    keys = set(secret["stringData"])
    containers = [worker_container(), resource("Job", "loanwatch-migrate")["spec"]["template"]
                  ["spec"]["containers"][0]]  # fmt: skip
    for container in containers:
        refs = [e["valueFrom"]["secretKeyRef"] for e in container.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})]  # fmt: skip
        assert refs and all(r["name"] == secret["metadata"]["name"] and r["key"] in keys
                            for r in refs)  # fmt: skip
        assert [s["configMapRef"]["name"] for s in container["envFrom"]] == ["loanwatch-settings"]
    production = literals(generators(PRODUCTION)["loanwatch-settings"])
    mount = next(m["mountPath"] for m in worker_container()["volumeMounts"]
                 if m["name"] == "credentials")  # fmt: skip
    assert production["LOANWATCH_KAFKA_SASL_PASSWORD_FILE"] == f"{mount}/kafka-sasl-password"
    assert production["LOANWATCH_KAFKA_SSL_CAFILE"] == f"{mount}/kafka-ca.crt"
    assert {"kafka-sasl-password", "kafka-ca.crt"} <= keys
    assert not any("PASSWORD=" in item for item in
                   kustomization(PRODUCTION)["configMapGenerator"][0]["literals"])  # fmt: skip


def test_probes_ports_services_and_resources() -> None:
    container = worker_container()
    port = int(literals(generators(BASE)["loanwatch-settings"])["LOANWATCH_WEB_PORT"])
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    labels = resource("StatefulSet", "loanwatch")["spec"]["template"]["metadata"]["labels"]
    for name in ("loanwatch", "loanwatch-headless"):
        service = resource("Service", name)
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["port"] == port
    statefulset = resource("StatefulSet", "loanwatch")
    assert statefulset["spec"]["serviceName"] == "loanwatch-headless"
    web_host = next(e["value"] for e in container["env"] if e["name"] == "LOANWATCH_WEB_HOST")
    assert web_host.endswith(".loanwatch-headless")
    job = resource("Job", "loanwatch-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert job["args"] == ["db", "migrate"]


# --- compose ------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((COMPOSE / "compose.yaml").read_text()))


def test_the_compose_file_is_valid_against_the_compose_spec() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validate(compose(), schema)
    broken = compose()
    broken["services"]["worker"]["imagee"] = "loanwatch:typo"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_compose_runs_the_whole_stack_with_a_one_shot_migration() -> None:
    services = compose()["services"]
    assert {"kafka", "postgres", "migrate", "worker", "prometheus", "grafana"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["migrate"]["command"] == ["db", "migrate"]
    worker = services["worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in worker  # replicas would fight over a host port
    assert worker["deploy"]["replicas"] >= 2
    for name in ("migrate", "worker"):
        assert (COMPOSE / services[name]["env_file"]).exists()
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    context = (COMPOSE / services["migrate"]["build"]["context"]).resolve()
    assert (context / services["migrate"]["build"]["dockerfile"]).exists()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), volume


def test_the_database_url_matches_the_postgres_container() -> None:
    env = env_file(COMPOSE / "loanwatch.env")
    pg = env_file(COMPOSE / "postgres.env")
    url = env["LOANWATCH_DATABASE_URL"]
    assert url == (f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}"
                   f"@postgres:5432/{pg['POSTGRES_DB']}")  # fmt: skip
    assert env["LOANWATCH_KAFKA_BOOTSTRAP"] == "kafka:9092"


def env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


# --- every LOANWATCH_* variable is one loanwatch reads ------------------------------------


def variables_set() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    texts = {path: path.read_text() for path in [
        *K8S.rglob("*.yaml"), *COMPOSE.glob("*.yaml"), *COMPOSE.glob("*.env"), DOCKERFILE,
    ]}  # fmt: skip
    for path, text in texts.items():
        for name in re.findall(r"\b(LOANWATCH_[A-Z0-9_]+)\s*[=:]", text):
            found.setdefault(name, set()).add(path.name)
        for name in re.findall(r"name:\s*(LOANWATCH_[A-Z0-9_]+)", text):
            found.setdefault(name, set()).add(path.name)
    return found


def test_every_loanwatch_variable_set_is_a_setting() -> None:
    found = variables_set()
    assert len(found) >= 15, found
    unknown = {name: files for name, files in found.items() if name not in SETTINGS_VARIABLES}
    assert not unknown, unknown


def test_the_settings_the_deployments_set_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**literals(generators(BASE)["loanwatch-settings"]),
                       **literals(generators(PRODUCTION)["loanwatch-settings"]),
                       **env_file(COMPOSE / "loanwatch.env")}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.table_store == "memory://"  # compose's file came last


# --- Dockerfile ---------------------------------------------------------------------------


def test_the_dockerfile_builds_a_non_root_worker_image_from_files_that_exist() -> None:
    parser = DockerfileParser(path=str(DOCKERFILE))
    instructions = parser.structure
    bases = [i["value"] for i in instructions if i["instruction"] == "FROM"]
    assert bases and all(b.startswith("python:3.11-slim") for b in bases)
    for instruction in instructions:
        if instruction["instruction"] == "COPY" and "--from=" not in instruction["value"]:
            *sources, _ = instruction["value"].split()
            for source in sources:
                assert (REPO_ROOT / source).exists(), instruction["value"]
    users = [i["value"] for i in instructions if i["instruction"] == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    entrypoint = next(i["value"] for i in instructions if i["instruction"] == "ENTRYPOINT")
    cmd = next(i["value"] for i in instructions if i["instruction"] == "CMD")
    assert json.loads(entrypoint) + json.loads(cmd) == ["loanwatch", "worker"]
    assert "pyproject.toml" in parser.content and "[rocksdb]" in parser.content
    assert parser.envs["LOANWATCH_MIGRATIONS_DIR"] == "/opt/loanwatch/sql"
    assert "libjemalloc2" in parser.content and parser.envs["LD_PRELOAD"].endswith(
        "libjemalloc.so.2")
    assert any(i["instruction"] == "COPY" and i["value"].startswith("sql ") for i in instructions)
