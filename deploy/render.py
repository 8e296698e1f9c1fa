"""Render the per-service deployment files from ``deploy/services.toml``.

``python deploy/render.py`` (or ``make manifests``) writes ``k8s/<service>.yaml``
for every service that exists and the services part of ``docker-compose.yml``,
so that ports and names are written once, in ``services.toml``. The test suite
renders again and fails when a checked-in file differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import service_ports  # noqa: E402
from shared.runtime.process.catalog import existing_services  # noqa: E402

COMPOSE_HEAD = """\
# The platform in containers: PostgreSQL, RabbitMQ, a one-shot migration, and
# every service that exists. Rendered by deploy/render.py from
# deploy/services.toml: edit those, then `make manifests`. `docker compose up`
# needs a Docker engine; the test suite checks this file offline.
name: orgwork

x-service: &service
  image: orgwork:latest
  build:
    context: .
    dockerfile: deploy/Dockerfile
  environment: &environment
    DATABASE_URL: postgresql://postgres:orgwork@postgres:5432/orgwork
    AMQP_URI: amqp://guest:guest@rabbitmq:5672/
    LOG_FORMAT: json
    # A local platform: the offset clock, which `make demo` moves forward.
    CLOCK: offset
    # Local only; in production the key comes from a secret.
    FEEDBACK_IDENTITY_KEY: ${FEEDBACK_IDENTITY_KEY:-}
  depends_on: &depends
    postgres:
      condition: service_healthy
    rabbitmq:
      condition: service_healthy
  restart: unless-stopped
  stop_grace_period: 45s

services:
  postgres:
    image: postgres:15
    environment:
      POSTGRES_PASSWORD: orgwork
      POSTGRES_DB: orgwork
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres -d orgwork"]
      interval: 5s
      timeout: 3s
      retries: 20

  rabbitmq:
    image: rabbitmq:3.13-management
    healthcheck:
      test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
      interval: 10s
      timeout: 5s
      retries: 20

  migrate:
    <<: *service
    entrypoint: ["python", "-m", "shared.runtime.process.platform"]
    command: ["migrate"]
    restart: "no"
"""

COMPOSE_SERVICE = """
  {name}:
    <<: *service
    command: ["{name}"]
    environment:
      <<: *environment
      {upper}_HEALTH_PORT: "{health}"
      {upper}_METRICS_PORT: "{metrics}"
    ports:
      - "{health}:{health}"
      - "{metrics}:{metrics}"
    depends_on:
      <<: *depends
      migrate:
        condition: service_completed_successfully
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{health}/health/ready', timeout=3)"]
      interval: 10s
      timeout: 5s
      retries: 6
"""

COMPOSE_TAIL = """
volumes:
  pgdata:
"""

K8S_SERVICE = """\
# The {name} service, rendered by deploy/render.py from deploy/services.toml.
# Two replicas: one relay publishes at a time (advisory lock), and inbound
# queues are single-active-consumer, so the standby replica takes over delivery
# in stream order if the active one dies.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: orgwork
  labels: &labels
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: orgwork
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels: *labels
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{metrics}"
        prometheus.io/path: /metrics
    spec:
      terminationGracePeriodSeconds: 45
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: {name}
          image: orgwork:latest
          args: ["{name}"]
          envFrom:
            - configMapRef:
                name: orgwork-settings
            - secretRef:
                name: orgwork-connections
          env:
            - name: {upper}_HEALTH_PORT
              value: "{health}"
            - name: {upper}_METRICS_PORT
              value: "{metrics}"{extra_env}
          ports:
            - name: health
              containerPort: {health}
            - name: metrics
              containerPort: {metrics}
          livenessProbe:
            httpGet: {{path: /health/live, port: health}}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: {{path: /health/ready, port: health}}
            periodSeconds: 5
            failureThreshold: 3
          resources:
            requests: {{cpu: 100m, memory: 192Mi}}
            limits: {{memory: 512Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: orgwork
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: orgwork
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: health
      port: {health}
      targetPort: health
    - name: metrics
      port: {metrics}
      targetPort: metrics
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  namespace: orgwork
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
"""

#: Settings a service needs from a secret of its own.
SECRETS = {
    "feedback": """
            - name: FEEDBACK_IDENTITY_KEY
              valueFrom:
                secretKeyRef: {name: orgwork-feedback, key: identity-key}""",
}


def _values(name: str) -> dict[str, object]:
    ports = service_ports(name, env={})
    return {"name": name, "upper": name.upper(), "health": ports.health, "metrics": ports.metrics}


def render_compose(names: list[str]) -> str:
    return COMPOSE_HEAD + "".join(COMPOSE_SERVICE.format(**_values(n)) for n in names) + COMPOSE_TAIL


def render_k8s(name: str) -> str:
    return K8S_SERVICE.format(**_values(name), extra_env=SECRETS.get(name, ""))


def rendered() -> dict[Path, str]:
    """Every rendered file, by path."""
    names = existing_services()
    files = {ROOT / "docker-compose.yml": render_compose(names)}
    files.update({ROOT / "k8s" / f"{name}.yaml": render_k8s(name) for name in names})
    return files


def main() -> int:
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
