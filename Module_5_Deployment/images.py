"""The role images: build them with docker when a daemon answers, else with podman.

    python -m Module_5_Deployment.images build all          # make image
    python -m Module_5_Deployment.images build converter    # make image ROLE=converter
    python -m Module_5_Deployment.images base               # podman: the local base image
    python -m Module_5_Deployment.images sizes              # MB above the base, against budgets

Where Docker Hub answers, every image starts from the official ``python:3.11-slim-bookworm``.
These development machines have no Docker daemon and cannot reach Docker Hub, so podman builds
them on a base made locally from Debian's own packages (``debootstrap``, then ``podman import``),
with the flags measured in ``FIELD_NOTES.md`` ("Containers"): chroot isolation, no pull, the
host network, the host's CA bundle mounted for uv, and ``runc`` with explicit ulimits to run.
The same functions drive ``make image`` and the image tests, so both run the same commands.
"""

from __future__ import annotations

import logging
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from Module_1_Foundations.common.cli import ArgumentParser, run_cli
from Module_1_Foundations.common.errors import UserError
from Module_1_Foundations.common.logs import setup_logging
from Module_1_Foundations.common.paths import REPO_ROOT

log = logging.getLogger(__name__)

OFFICIAL_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "localhost/hdp-base:bookworm"
DEBIAN_SUITE = "bookworm"
#: what the local base must hold: the official image's python3, plus venv for the uv bootstrap
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
CA_CERTS = Path("/etc/ssl/certs")
MB = 1_000_000


@dataclass(frozen=True)
class Role:
    """One image: which Dockerfile (and target) builds it, and its size budget above the base."""

    name: str
    dockerfile: str
    target: str | None
    budget_mb: int
    what: str

    @property
    def tag(self) -> str:
        return f"localhost/hdp-{self.name}:latest"


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("converter", "Module_5_Deployment/dockerfile", None, 300, "Module 1's converter job"),
        Role("pipeline", "Dockerfile", "pipeline", 2000, "Airflow, dbt and the DAGs"),
        Role("dashboard", "Dockerfile", "dashboard", 600, "the Streamlit dashboard"),
        Role("object-store", "Dockerfile", "object-store", 200, "SeaweedFS for compose.yaml"),
    )
}


def tool(name: str) -> str:
    """The absolute path of a program on PATH (bandit B607: never run a bare program name)."""
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name} is missing: run 'make container-deps'")
    return path


def docker_daemon_answers() -> bool:
    """True when a Docker daemon answers ``docker info`` (the docker client alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    done = subprocess.run([tool("docker"), "info"], capture_output=True, check=False, timeout=20)
    return done.returncode == 0


def _ulimit(kind: int, wanted: int = 4096) -> str:
    """``soft:hard`` no higher than this machine's own limit (runc refuses higher ones)."""
    soft, _hard = resource.getrlimit(kind)
    value = wanted if soft == resource.RLIM_INFINITY else min(wanted, soft)
    return f"{value}:{value}"


@dataclass(frozen=True)
class Engine:
    """The container engine and the flags it needs on this kind of machine."""

    name: str  # "docker" or "podman"

    @classmethod
    def detect(cls) -> Engine:
        if docker_daemon_answers():
            return cls("docker")
        if shutil.which("podman"):
            return cls("podman")
        raise UserError(
            "no container engine: no Docker daemon answers and podman is missing; "
            "run 'make container-deps' (apt-get install podman runc debootstrap)"
        )

    @property
    def base_image(self) -> str:
        return OFFICIAL_BASE if self.name == "docker" else LOCAL_BASE

    def build_command(self, role: Role) -> list[str]:
        command = [self.name, "build", "-f", role.dockerfile, "-t", role.tag]
        if role.target:
            command += ["--target", role.target]
        if self.name == "podman":
            command += [
                "--isolation=chroot",  # crun fails here: "cgroups in hybrid mode not supported"
                "--pull=never",  # Docker Hub is out of reach; the base is local
                "--network=host",
                "-v", f"{CA_CERTS}:{CA_CERTS}:ro",  # the CA bundle uv must trust here
                "--build-arg", f"BASE_IMAGE={LOCAL_BASE}",
                "--build-arg", "UV_SYSTEM_CERTS=1",
            ]  # fmt: skip
        return [*command, "."]

    def run_command(self, image: str, *args: str, options: tuple[str, ...] = ()) -> list[str]:
        """``run --rm`` with the options, then the image and its arguments."""
        if self.name == "docker":
            return ["docker", "run", "--rm", *options, image, *args]
        return [
            "podman", "--runtime", "runc", "run", "--rm",  # crun: hybrid cgroups again
            "--ulimit", f"nofile={_ulimit(resource.RLIMIT_NOFILE)}",  # runc: "error setting rlimit"
            "--ulimit", f"nproc={_ulimit(resource.RLIMIT_NPROC)}",
            *options, image, *args,
        ]  # fmt: skip

    def image_bytes(self, image: str) -> int | None:
        done = subprocess.run(
            [self.name, "image", "inspect", "--format", "{{.Size}}", image],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return int(done.stdout.strip()) if done.returncode == 0 else None

    def megabytes_above_base(self, image: str) -> float:
        size, base = self.image_bytes(image), self.image_bytes(self.base_image)
        if size is None or base is None:
            raise UserError(f"{image} or its base {self.base_image} is not built: run 'make image'")
        return (size - base) / MB


def debian_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt itself uses (never a host name written into the repository)."""
    for path in sorted(sources_dir.glob("sources.list.d/*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    legacy = sources_dir / "sources.list"
    if legacy.is_file():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1]
    raise UserError(f"no Debian mirror in {sources_dir}: cannot build the local base image")


def build_base(engine: Engine) -> float:
    """podman only: make ``LOCAL_BASE`` from Debian packages unless it exists; seconds taken."""
    if engine.name != "podman" or engine.image_bytes(LOCAL_BASE) is not None:
        return 0.0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hdp-rootfs-") as rootfs:
        log.info("debootstrap %s into %s (about a minute)", DEBIAN_SUITE, rootfs)
        subprocess.run(
            [tool("debootstrap"), "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
             DEBIAN_SUITE, rootfs, debian_mirror()],
            check=True, capture_output=True,
        )  # fmt: skip
        tar = subprocess.Popen([tool("tar"), "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            [tool("podman"), "import", "-", LOCAL_BASE],
            stdin=tar.stdout, check=True, capture_output=True,
        )  # fmt: skip
        tar.wait()
    return time.monotonic() - started


def build(engine: Engine, role: Role) -> float:
    """Build one role's image from the repository root; seconds taken."""
    build_base(engine)
    started = time.monotonic()
    log.info("building %s (%s): %s", role.tag, role.what, " ".join(engine.build_command(role)))
    done = subprocess.run(
        engine.build_command(role), cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise UserError(f"building {role.tag} failed:\n{tail}")
    return time.monotonic() - started


def _selected(name: str) -> list[Role]:
    if name == "all":
        return list(ROLES.values())
    if name not in ROLES:
        raise UserError(f"unknown role {name!r}: choose all, {', '.join(ROLES)}")
    return [ROLES[name]]


def main(argv: list[str] | None = None) -> int:
    """Build role images, the local base, or print sizes against the budgets."""
    parser = ArgumentParser(
        prog="python -m Module_5_Deployment.images",
        description="Build the role images (docker when a daemon answers, else podman).",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    build_cmd = sub.add_parser("build", help="build one role's image, or all")
    build_cmd.add_argument("role", nargs="?", default="all", help=f"all, {', '.join(ROLES)}")
    sub.add_parser("base", help="podman: build the local Debian base image if missing")
    sub.add_parser("sizes", help="MB above the base image, against each role's budget")
    args = parser.parse_args(argv)
    if args.command == "build":
        _selected(args.role)  # a bad role is an error before any engine is probed
    setup_logging("Module_5_Deployment", "images")
    engine = Engine.detect()
    if args.command == "base":
        print(f"{LOCAL_BASE}: ready ({build_base(engine):.0f} s)")
        return 0
    roles = _selected(args.role) if args.command == "build" else list(ROLES.values())
    over = 0
    for role in roles:
        if args.command == "build":
            seconds = build(engine, role)
            print(f"{role.tag}: built with {engine.name} in {seconds:.0f} s")
        if engine.image_bytes(role.tag) is None:
            print(f"{role.tag}: not built")
            continue
        above = engine.megabytes_above_base(role.tag)
        over += above > role.budget_mb
        verdict = "ok" if above <= role.budget_mb else "OVER BUDGET"
        budget = f"budget {role.budget_mb}"
        print(f"{role.tag}: {above:.0f} MB above {engine.base_image} ({budget}) {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
