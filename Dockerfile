# The learning path in one image: the locked environment, the code, and `make run` as default.
# Build:  docker build -t hybrid-data-path .
# Run:    docker run --rm -p 127.0.0.1:8501:8501 hybrid-data-path
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False

# make drives every command of the path; procps gives `ps` to the service scripts
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 procps=2:4.0.2-3 \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app

# dependencies first: this layer is rebuilt only when the lock changes
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev \
    && useradd --uid 10001 --create-home learner \
    && chown -R 10001:10001 /app

USER 10001
ENV PATH="/app/.venv/bin:${PATH}"

EXPOSE 8501 8080
CMD ["make", "run", "SYNC_FLAGS=--no-dev"]
