"""compose.yaml: the local stack's structure, loopback-only ports, and no secret in the file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from Module_1_Foundations.common.paths import REPO_ROOT
from Module_5_Deployment.images import ROLES

COMPOSE_FILE = REPO_ROOT / "compose.yaml"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES = COMPOSE["services"]


def test_compose_file_matches_the_compose_specification():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema",
         "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stack_is_object_store_airflow_and_dashboard_from_our_role_images():
    assert set(SERVICES) == {"object-store", "airflow", "dashboard"}
    role_of = {"object-store": "object-store", "airflow": "pipeline", "dashboard": "dashboard"}
    for name, service in SERVICES.items():
        role = ROLES[role_of[name]]
        assert service["image"] == role.tag
        assert service["build"] == {
            "context": ".",
            "dockerfile": role.dockerfile,
            "target": role.target,
        }


def _published(service: dict) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


def test_every_published_port_is_bound_to_loopback():
    ports = [p for s in SERVICES.values() for p in _published(s)]
    assert ports, "the stack publishes nothing"
    assert [p for p in ports if not p.startswith("127.0.0.1:")] == []


def test_no_credential_is_written_in_the_file():
    for service in SERVICES.values():
        for name, value in (service.get("environment") or {}).items():
            if re.search(r"KEY|SECRET|TOKEN|PASSWORD", name):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), f"{name} must come from .env"


def test_the_dashboard_reads_the_state_volume_read_only_and_airflow_writes_it():
    assert "state:/state:ro" in SERVICES["dashboard"]["volumes"]
    assert "state:/state" in SERVICES["airflow"]["volumes"]
    assert SERVICES["airflow"]["environment"]["HDP_S3_ENDPOINT_URL"] == "http://object-store:8333"
    assert {"state", "object-store"} <= set(COMPOSE["volumes"])
