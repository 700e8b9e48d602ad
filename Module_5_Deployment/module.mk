# Module 5: images, CI workflow checks, security scans and the docs site.
# Included by the root Makefile; targets run with the project's .venv.
M5_IMAGES := $(PY) -m Module_5_Deployment.images
M5_DOCKERFILES := Dockerfile $(wildcard Module_5_Deployment/dockerfile Module_5_Deployment/*.Dockerfile)
M5_WORKFLOWS := $(wildcard .github/workflows/*.yml)
DOCS_PORT ?= 8000
ROLE ?= all

.PHONY: container-deps image image-base lint-workflows lint-dockerfiles security docs docs-build

# podman builds the images when no Docker daemon answers (these machines: FIELD_NOTES, Containers)
system-deps: container-deps
container-deps: ## Debian packages the image tests need without a Docker daemon (podman, runc, debootstrap)
	@if docker info >/dev/null 2>&1; then exit 0; fi; \
	missing=""; for c in podman runc debootstrap; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	  else echo "error: no Docker daemon and$$missing missing: run 'sudo apt-get install -y$$missing'"; exit 1; fi; fi

image: setup container-deps ## build the role images (ROLE=all|converter|pipeline|dashboard|object-store) with docker, else podman
	$(M5_IMAGES) build $(ROLE)

image-base: setup container-deps ## podman only: build the local base image from Debian packages (Docker Hub unreachable)
	$(M5_IMAGES) base

lint-workflows: setup ## the CI workflows against GitHub's schema, and zizmor's offline audit
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(M5_WORKFLOWS)
	$(VENV)/bin/zizmor --offline --quiet $(M5_WORKFLOWS)

lint-dockerfiles: setup ## hadolint on every Dockerfile
	$(VENV)/bin/hadolint --config .hadolint.yaml $(M5_DOCKERFILES)

security: setup ## bandit on the shipped code, and the secret scan against .secrets.baseline
	$(VENV)/bin/bandit --quiet -c pyproject.toml -r .
	$(PY) -m Module_5_Deployment.secret_scan

docs-build: setup ## build the MkDocs site into .state/site (strict: a broken link fails)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

docs: docs-build ## build the docs site, then serve it on 127.0.0.1:8000 (DOCS_PORT)
	@echo "serving .state/site on http://127.0.0.1:$(DOCS_PORT)/ (Ctrl-C stops)"
	$(PY) -m http.server --bind 127.0.0.1 --directory .state/site $(DOCS_PORT)

# Module 5's own linters, run by `make lint` and so by `make test`
lint:: lint-workflows lint-dockerfiles security
