"""What the Prometheus Operator and Grafana read: the scrape, the alerts, the dashboard.

The alert rules and the dashboard are written once, under
``deploy/observability/`` (where ``promtool test rules`` checks the rules and
compose mounts both); here they are wrapped for a cluster: a
``PrometheusRule`` and a ConfigMap with the label Grafana's sidecar looks for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from deploy.manifests.model import Literal, metadata

OBSERVABILITY = Path(__file__).resolve().parent.parent / "observability"
ALERTS = OBSERVABILITY / "alerts.yml"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "orgwork.json"
#: The Prometheus data source: compose provisions its own uid; kube-prometheus-stack's is ``prometheus``.
COMPOSE_DATASOURCE, CLUSTER_DATASOURCE = "orgwork-prometheus", "prometheus"


def pod_monitor() -> dict[str, Any]:
    """Every service pod's ``metrics`` port, every 15 s; the labels the platform sets are kept as they are."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata("orgwork", "monitoring"),
        "spec": {
            "selector": {
                "matchLabels": {"app.kubernetes.io/part-of": "orgwork", "app.kubernetes.io/component": "service"}
            },
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "interval": "15s",
                    # The platform's own labels win over the target's (its orgwork_service among them) ...
                    "honorLabels": True,
                    # ... and `up` and process_* get one too, which the alerts group by.
                    "relabelings": [
                        {
                            "sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                            "targetLabel": "orgwork_service",
                            "action": "replace",
                        }
                    ],
                }
            ],
        },
    }


def database_pod_monitor() -> dict[str, Any]:
    """CloudNativePG's exporter on every instance (its own ``enablePodMonitor`` is deprecated)."""
    from deploy.manifests.model import DB_CLUSTER

    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata(DB_CLUSTER, "monitoring"),
        "spec": {
            "selector": {"matchLabels": {"cnpg.io/cluster": DB_CLUSTER}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def prometheus_rule() -> dict[str, Any]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata("orgwork", "monitoring"),
        "spec": {"groups": rules["groups"]},
    }


def dashboard() -> dict[str, Any]:
    """The dashboard for Grafana's sidecar (it loads ConfigMaps labelled ``grafana_dashboard``)."""
    shipped = DASHBOARD.read_text().replace(f'"uid": "{COMPOSE_DATASOURCE}"', f'"uid": "{CLUSTER_DATASOURCE}"')
    text = json.dumps(json.loads(shipped), indent=2, ensure_ascii=False) + "\n"
    meta = metadata("orgwork-dashboard", "monitoring")
    meta["labels"]["grafana_dashboard"] = "1"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"orgwork.json": Literal(text)}}
