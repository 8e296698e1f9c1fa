"""Who may talk to whom: nothing, unless a policy here says so.

Every pod of the platform (``app.kubernetes.io/part-of: orgwork``) is denied
all traffic, in and out; then each kind of workload gets what it needs and no
more. A service reaches PostgreSQL, RabbitMQ and DNS, and takes scrapes on its
metrics port; the gateway reaches RabbitMQ and DNS and takes HTTP from
anywhere (the ingress controller); the migrate Job reaches PostgreSQL,
RabbitMQ and DNS. Probes come from the kubelet, which network policies do not
filter. The operators' pods (the database, the broker) are theirs to police.
"""

from __future__ import annotations

from typing import Any

from deploy.manifests.model import AMQP_PORT, AMQPS_PORT, BROKER_PODS, DB_PODS, DB_PORT, MIGRATE, PART_OF, metadata

#: Where Prometheus runs: the namespace allowed to scrape the metrics ports.
MONITORING_NAMESPACE = "monitoring"


def _dns() -> dict[str, Any]:
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def _to(pods: dict[str, str], *port_numbers: int) -> dict[str, Any]:
    return {
        "to": [{"podSelector": {"matchLabels": pods}}],
        "ports": [{"protocol": "TCP", "port": port} for port in port_numbers],
    }


def _policy(name: str, selector: dict[str, str], ingress: list[dict], egress: list[dict]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, "network-policy"),
        "spec": {
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def policies(services_have_metrics: bool = True) -> list[dict[str, Any]]:
    scrape = {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}],
        "ports": [{"protocol": "TCP", "port": "metrics"}],
    }
    data = [_to(DB_PODS, DB_PORT), _to(BROKER_PODS, AMQP_PORT, AMQPS_PORT), _dns()]
    return [
        _policy("orgwork-deny-all", PART_OF, ingress=[], egress=[]),
        _policy(
            "orgwork-services",
            {**PART_OF, "app.kubernetes.io/component": "service"},
            ingress=[scrape] if services_have_metrics else [],
            egress=data,
        ),
        _policy(
            "orgwork-gateway",
            {**PART_OF, "app.kubernetes.io/component": "gateway"},
            ingress=[{"ports": [{"protocol": "TCP", "port": "http"}]}],
            egress=[_to(BROKER_PODS, AMQP_PORT, AMQPS_PORT), _dns()],
        ),
        _policy(MIGRATE, {**PART_OF, "app.kubernetes.io/component": "migrate"}, ingress=[], egress=data),
    ]
