"""Render the per-service deployment files from ``deploy/services.toml``.

``python deploy/render.py`` (or ``make manifests``) writes ``k8s/<service>.yaml``
for every service that exists (and ``k8s/gateway.yaml`` when ``services.toml``
has a ``[gateway]`` section), the services part of ``docker-compose.yml``, and
``deploy/secrets.example.yaml``, so that ports and names are written once, in
``services.toml``. The test suite renders again and fails when a checked-in
file differs.

The Secrets each Deployment reads (operators create them; none is kept here,
``deploy/secrets.example.yaml`` shows their shape with placeholders):

``orgwork-connections``      ``DATABASE_URL``; ``AMQP_URI``, the broker's
                             administrator, read by the migrate Job alone
``orgwork-<name>-amqp``      ``uri``: the AMQP URI of ``<name>``'s own broker
                             user (``shared.runtime.process.broker``)
``orgwork-<name>-keys``      ``<name>.key`` and every ``<holder>.pub``
                             (``shared.security.keys``), mounted read-only as
                             ``SECURITY_KEYS_DIR``; feedback's also holds
                             ``feedback.hpke.key`` and the gateway's
                             ``feedback.hpke.pub``, the X25519 pair submitters'
                             identities are sealed to at the gateway
                             (``shared.security.sealed_identity``)
``orgwork-feedback``         ``identity-key``
``orgwork-audit``            ``signing-key`` (``AUDIT_SIGNING_KEY``, every service
                             signs its tree heads with it) and ``public-key``
                             (``AUDIT_PUBLIC_KEY``, hex): one pair, rotated together

and the volume every service appends its signed tree heads to
(``AUDIT_HEAD_SINK``): the PersistentVolumeClaim ``orgwork-audit-heads``
(``k8s/audit-heads.yaml``), a stand-in for an object store with object lock or
a second system, outside the database the heads vouch for. Every service
Deployment runs with ``PLATFORM_MODE=production``, so a pod without the key or
a writable sink refuses to start (``shared.runtime.process.preflight``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import SERVICES_FILE, load_services_file, service_ports  # noqa: E402
from shared.runtime.process.catalog import existing_services  # noqa: E402
from shared.security import sealed_identity  # noqa: E402
from shared.security.keys import HOLDERS  # noqa: E402

#: Where a pod finds its keys (the Secret ``orgwork-<name>-keys``).
KEYS_DIR = "/etc/orgwork/keys"
#: Where a service appends its signed tree heads (the claim ``HEADS_CLAIM``; compose: the volume ``audit-heads``).
HEADS_DIR = "/var/lib/orgwork/audit-heads"
HEADS_CLAIM = "orgwork-audit-heads"
AUDIT_SECRET = "orgwork-audit"
#: Where compose mounts the local audit key (``.orgwork/keys/audit.key``) as ``AUDIT_SIGNING_KEY_FILE``.
COMPOSE_AUDIT_KEY = "/run/secrets/audit-signing-key"
#: How the gateway's container starts (the image's entrypoint is the service launcher).
GATEWAY_COMMAND = ["python", "-m", "services.gateway"]
SECRETS_EXAMPLE = ROOT / "deploy" / "secrets.example.yaml"
LOCAL_AMQP_URI = "amqp://guest:guest@rabbitmq:5672/"

COMPOSE_HEAD = """\
# The platform in containers: PostgreSQL, RabbitMQ, a one-shot migration, and
# every service that exists. Rendered by deploy/render.py from
# deploy/services.toml: edit those, then `make manifests`. `docker compose up`
# needs a Docker engine; the test suite checks this file offline. The services
# sign their tree heads with the local audit key (.orgwork/keys/audit.key: run
# `make run` or `orgctl keys init` first) and publish them to the volume
# audit-heads. A local platform: development mode (PLATFORM_MODE), like `make run`.
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
      # Its own broker user, when given (python -m shared.runtime.process.broker uris ...).
      AMQP_URI: ${{{upper}_AMQP_URI:-{local_amqp}}}
      {upper}_HEALTH_PORT: "{health}"
      {upper}_METRICS_PORT: "{metrics}"
      # Signed tree heads: the local audit key (the secret below), published to the volume audit-heads.
      AUDIT_SIGNING_KEY_FILE: {compose_audit_key}
      AUDIT_PUBLIC_KEY: ${{AUDIT_PUBLIC_KEY:-}}
      AUDIT_HEAD_SINK: {heads_dir}
    secrets:
      - audit-signing-key
    volumes:
      - audit-heads:{heads_dir}
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
  # Every service's signed tree heads (<service>.heads.jsonl), outside the database;
  # the image makes its mount point the services' user's, so a fresh volume is writable.
  audit-heads:

secrets:
  # The audit signing key `make run` or `orgctl keys init` makes (never committed).
  # compose bind-mounts the file as it is on the host, so the containers' user
  # (uid 10001) must be able to read it, e.g. `setfacl -m u:10001:r .orgwork/keys/audit.key`,
  # or point AUDIT_SIGNING_KEY_PATH at a copy it can read.
  audit-signing-key:
    file: ${AUDIT_SIGNING_KEY_PATH:-./.orgwork/keys/audit.key}
"""

K8S_SERVICE = """\
# The {name} service, rendered by deploy/render.py from deploy/services.toml.
# Two replicas: one relay publishes at a time (a lease), and inbound queues are
# single-active-consumer, so the standby replica takes over delivery in stream
# order if the active one dies. It connects to RabbitMQ as its own user
# (Secret orgwork-{name}-amqp) and holds its own key (Secret orgwork-{name}-keys).
# It signs its store's tree heads with the audit key (Secret orgwork-audit) and
# appends them to the claim orgwork-audit-heads; in production mode it refuses
# to start without either.
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
        fsGroup: 10001
      containers:
        - name: {name}
          image: orgwork:latest
          args: ["{name}"]
          envFrom:
            - configMapRef:
                name: orgwork-settings
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: {{name: orgwork-connections, key: DATABASE_URL}}{identity}
            - name: {upper}_HEALTH_PORT
              value: "{health}"
            - name: {upper}_METRICS_PORT
              value: "{metrics}"{mode_env}{audit_env}{extra_env}
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
            readOnlyRootFilesystem: true{keys_mount}
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

#: A process's own broker user and keys: the env entries (after ``env:``) ...
IDENTITY_ENV = """
            - name: AMQP_URI
              valueFrom:
                secretKeyRef: {{name: orgwork-{name}-amqp, key: uri}}
            - name: SECURITY_KEYS_DIR
              value: {keys_dir}"""

#: ... and the Secret volume they refer to (after the container's ``securityContext``),
#: with the head sink's volume for a service (``HEADS_MOUNT``, ``HEADS_VOLUME``).
KEYS_MOUNT = """
          volumeMounts:
            - name: keys
              mountPath: {keys_dir}
              readOnly: true{extra_mounts}
      volumes:
        - name: keys
          secret:
            secretName: orgwork-{name}-keys
            defaultMode: 288  # 0440: readable by the pod's group (fsGroup) only{extra_volumes}"""

#: A production process: refuses to start without what it must not run without.
MODE_ENV = """
            - name: PLATFORM_MODE
              value: production"""

#: What a service signs its tree heads with and where it publishes them.
AUDIT_ENV = """
            - name: AUDIT_SIGNING_KEY
              valueFrom:
                secretKeyRef: {{name: {secret}, key: signing-key}}
            - name: AUDIT_PUBLIC_KEY
              valueFrom:
                secretKeyRef: {{name: {secret}, key: public-key}}
            - name: AUDIT_HEAD_SINK
              value: {heads_dir}"""

HEADS_MOUNT = """
            - name: audit-heads
              mountPath: {heads_dir}"""

HEADS_VOLUME = """
        - name: audit-heads
          persistentVolumeClaim:
            claimName: {claim}"""

K8S_HEADS = """\
# Where every service appends its signed tree heads (AUDIT_HEAD_SINK,
# <service>.heads.jsonl), rendered by deploy/render.py. The heads vouch for the
# event stores, so they must live outside the database: this claim stands in
# for an object store with object lock (write once, read many) or a second
# system run by someone else, which is what production should use. Every
# service's pods append to it, hence ReadWriteMany: give it a storage class that
# offers that (NFS, CephFS, EFS, ...) and that the pods' group (fsGroup 10001)
# can write; a class that ignores fsGroup (NFS) must hand the export to uid
# 10001. A pod that cannot append to it refuses to start. A head is a few
# hundred bytes, one per replica every AUDIT_HEAD_SECONDS: size it for the
# retention you keep.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {claim}
  namespace: orgwork
  labels:
    app.kubernetes.io/part-of: orgwork
    app.kubernetes.io/component: audit
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests:
      storage: 20Gi
"""

K8S_GATEWAY = """\
# The HTTP gateway, rendered by deploy/render.py from the [gateway] section of
# deploy/services.toml. It calls the services over RPC as the broker user
# `gateway` (Secret orgwork-gateway-amqp), which may publish requests and read
# its own replies only, and signs identity assertions with its key (Secret
# orgwork-gateway-keys, which also holds feedback.hpke.pub: a submitter's
# identity is sealed to the feedback service before it crosses the broker).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
  namespace: orgwork
  labels: &labels
    app.kubernetes.io/name: gateway
    app.kubernetes.io/part-of: orgwork
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: gateway
  template:
    metadata:
      labels: *labels
    spec:
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
        - name: gateway
          image: orgwork:latest
          command: {command}
          envFrom:
            - configMapRef:
                name: orgwork-settings
          env:{identity}{mode_env}
            - name: GATEWAY_HTTP_PORT
              value: "{http}"{port_env}
          ports:
            - name: http
              containerPort: {http}{port_list}
          livenessProbe:
            {live}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            {ready}
            periodSeconds: 5
            failureThreshold: 3
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 384Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true{keys_mount}
---
apiVersion: v1
kind: Service
metadata:
  name: gateway
  namespace: orgwork
  labels:
    app.kubernetes.io/name: gateway
    app.kubernetes.io/part-of: orgwork
spec:
  selector:
    app.kubernetes.io/name: gateway
  ports:
    - name: http
      port: {http}
      targetPort: http{service_ports}
"""

COMPOSE_GATEWAY = """
  gateway:
    <<: *service
    entrypoint: {command}
    environment:
      <<: *environment
      # Its own broker user, when given (python -m shared.runtime.process.broker uris ...).
      AMQP_URI: ${{GATEWAY_AMQP_URI:-{local_amqp}}}
      GATEWAY_HTTP_PORT: "{http}"{compose_env}
    ports:
      - "{http}:{http}"{compose_ports}
    depends_on:
      <<: *depends
      migrate:
        condition: service_completed_successfully
"""

SECRETS_HEAD = """\
# The Secrets the Deployments in k8s/ read, with placeholders: the shape only.
# Rendered by deploy/render.py; never put real values here, and do not apply
# this file as it is. Make the real ones, e.g.:
#   python -m shared.runtime.process.broker definitions --passwords broker.json > definitions.json
#     (load into RabbitMQ: load_definitions, or rabbitmqctl import_definitions)
#   python -m shared.runtime.process.broker uris --passwords broker.json --amqp-uri amqps://rabbitmq:5671/
#   kubectl -n orgwork create secret generic orgwork-cadre-amqp --from-literal=uri=...
#   kubectl -n orgwork create secret generic orgwork-cadre-keys --from-file=keys/cadre.key --from-file=keys/gateway.pub ...
#   kubectl -n orgwork create secret generic orgwork-audit --from-literal=signing-key=... --from-literal=public-key=...
"""

SECRET = """---
# {comment}
apiVersion: v1
kind: Secret
metadata:
  name: {secret}
  namespace: orgwork
  labels:
    app.kubernetes.io/part-of: orgwork
type: Opaque
stringData:
{data}"""

#: The X25519 pair identities are sealed to (``shared.security.sealed_identity``), in its holders' keys Secrets:
#: feedback opens them, the gateway seals them (and holds no key that opens one).
IDENTITY_KEYS = {
    "feedback": {
        sealed_identity.PRIVATE_FILE: "REPLACE: feedback's X25519 private key that opens sealed identities (PKCS#8 PEM)"
    },
    "gateway": {sealed_identity.PUBLIC_FILE: "REPLACE: feedback's X25519 public key identities are sealed to (PEM)"},
}

#: Settings a service needs from a secret of its own.
SECRETS = {
    "feedback": """
            - name: FEEDBACK_IDENTITY_KEY
              valueFrom:
                secretKeyRef: {name: orgwork-feedback, key: identity-key}""",
}


def _values(name: str, path: Path = SERVICES_FILE) -> dict[str, object]:
    ports = service_ports(name, env={}, path=path)
    return {
        "name": name,
        "upper": name.upper(),
        "health": ports.health,
        "metrics": ports.metrics,
        "local_amqp": LOCAL_AMQP_URI,
    }


def _identity(name: str, signs_heads: bool = True) -> dict[str, str]:
    """A process's broker user and keys; a service's also its audit key and head sink (the gateway signs none)."""
    return {
        "identity": IDENTITY_ENV.format(name=name, keys_dir=KEYS_DIR),
        "keys_mount": KEYS_MOUNT.format(
            name=name,
            keys_dir=KEYS_DIR,
            extra_mounts=HEADS_MOUNT.format(heads_dir=HEADS_DIR) if signs_heads else "",
            extra_volumes=HEADS_VOLUME.format(claim=HEADS_CLAIM) if signs_heads else "",
        ),
        "mode_env": MODE_ENV,
        "audit_env": AUDIT_ENV.format(secret=AUDIT_SECRET, heads_dir=HEADS_DIR) if signs_heads else "",
    }


def gateway_table(path: Path = SERVICES_FILE) -> dict[str, int] | None:
    """The ``[gateway]`` section of ``services.toml``, or None when there is none."""
    table = load_services_file(path).get("gateway")
    return dict(table) if table is not None else None


def render_compose(names: list[str], gateway: dict[str, int] | None = None, path: Path = SERVICES_FILE) -> str:
    audit = {"compose_audit_key": COMPOSE_AUDIT_KEY, "heads_dir": HEADS_DIR}
    services = "".join(COMPOSE_SERVICE.format(**_values(n, path), **audit) for n in names)
    if gateway is not None:
        extra = {k: v for k, v in gateway.items() if k.endswith("_port") and k != "http_port"}
        services += COMPOSE_GATEWAY.format(
            command=json.dumps(GATEWAY_COMMAND),
            local_amqp=LOCAL_AMQP_URI,
            http=gateway["http_port"],
            compose_env="".join(f'\n      GATEWAY_{k.upper()}: "{v}"' for k, v in extra.items()),
            compose_ports="".join(f'\n      - "{v}:{v}"' for v in extra.values()),
        )
    return COMPOSE_HEAD + services + COMPOSE_TAIL


def render_k8s(name: str, path: Path = SERVICES_FILE) -> str:
    return K8S_SERVICE.format(**_values(name, path), **_identity(name), extra_env=SECRETS.get(name, ""))


def render_heads_claim() -> str:
    """The volume every service publishes its signed tree heads to."""
    return K8S_HEADS.format(claim=HEADS_CLAIM)


def render_gateway(gateway: dict[str, int]) -> str:
    """The gateway's Deployment and Service; probed over HTTP on ``health_port`` if it has one, else by TCP."""
    extra = {k.removesuffix("_port"): v for k, v in gateway.items() if k.endswith("_port") and k != "http_port"}
    if "health" in extra:
        live, ready = "httpGet: {path: /health/live, port: health}", "httpGet: {path: /health/ready, port: health}"
    else:
        live = ready = "tcpSocket: {port: http}"
    return K8S_GATEWAY.format(
        command=json.dumps(GATEWAY_COMMAND),
        http=gateway["http_port"],
        live=live,
        ready=ready,
        port_env="".join(
            f'\n            - name: GATEWAY_{k.upper()}_PORT\n              value: "{v}"' for k, v in extra.items()
        ),
        port_list="".join(f"\n            - name: {k}\n              containerPort: {v}" for k, v in extra.items()),
        service_ports="".join(f"\n    - name: {k}\n      port: {v}\n      targetPort: {k}" for k, v in extra.items()),
        **_identity("gateway", signs_heads=False),
    )


def render_secrets_example(names: list[str], gateway: bool) -> str:
    """Placeholder Secrets: the connections, and each process's broker user and keys."""

    def data(entries: dict[str, str]) -> str:
        return "".join(f"  {key}: {json.dumps(value)}\n" for key, value in entries.items())

    documents = [
        SECRET.format(
            secret="orgwork-connections",
            comment="The database, and the broker's administrator (AMQP_URI): read by the migrate Job alone.",
            data=data(
                {
                    "DATABASE_URL": "postgresql://orgwork:REPLACE@postgres:5432/orgwork",
                    "AMQP_URI": "amqps://admin:REPLACE@rabbitmq:5671/",
                }
            ),
        )
    ]
    for name in [*names, *(["gateway"] if gateway else [])]:
        documents.append(
            SECRET.format(
                secret=f"orgwork-{name}-amqp",
                comment=f"{name}'s own broker user (shared.runtime.process.broker): its AMQP_URI.",
                data=data({"uri": f"amqps://orgwork-{name}:REPLACE@rabbitmq:5671/"}),
            )
        )
        keys = {f"{name}.key": f"REPLACE: the Ed25519 private key of {name} (PEM)"}
        keys.update({f"{holder}.pub": f"REPLACE: the public key of {holder} (PEM)" for holder in HOLDERS})
        keys.update(IDENTITY_KEYS.get(name, {}))
        documents.append(
            SECRET.format(
                secret=f"orgwork-{name}-keys",
                comment=f"{name}'s SECURITY_KEYS_DIR: its own private key and the public keys (shared.security.keys).",
                data=data(keys),
            )
        )
    if names:
        documents.append(
            SECRET.format(
                secret=AUDIT_SECRET,
                comment=(
                    "The audit key pair: every service signs its tree heads with signing-key (AUDIT_SIGNING_KEY,\n"
                    "# base64 of the raw 32-byte Ed25519 private key; PEM is accepted too); auditors trust\n"
                    "# public-key (AUDIT_PUBLIC_KEY, hex). `orgctl audit new-key` prints a new pair, and\n"
                    "# `orgctl keys init` makes audit.key/audit.pub (PEM). Never commit one."
                ),
                data=data(
                    {
                        "signing-key": "REPLACE: base64 of the raw Ed25519 private key",
                        "public-key": "REPLACE: hex of its public key",
                    }
                ),
            )
        )
    if "feedback" in names:
        documents.append(
            SECRET.format(
                secret="orgwork-feedback",
                comment="The Fernet key that seals submitters' identities (FEEDBACK_IDENTITY_KEY).",
                data=data({"identity-key": "REPLACE: a Fernet key"}),
            )
        )
    return SECRETS_HEAD + "".join(documents)


def rendered(path: Path = SERVICES_FILE) -> dict[Path, str]:
    """Every rendered file, by path."""
    names = existing_services()
    gateway = gateway_table(path)
    files = {ROOT / "docker-compose.yml": render_compose(names, gateway, path)}
    files.update({ROOT / "k8s" / f"{name}.yaml": render_k8s(name, path) for name in names})
    if names:
        files[ROOT / "k8s" / "audit-heads.yaml"] = render_heads_claim()
    if gateway is not None:
        files[ROOT / "k8s" / "gateway.yaml"] = render_gateway(gateway)
    files[SECRETS_EXAMPLE] = render_secrets_example(names, gateway is not None)
    return files


def main() -> int:
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
