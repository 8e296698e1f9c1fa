"""deploy/observability/, checked offline: the alert rules (``promtool check rules`` and their unit tests),
the compose Prometheus config, the Grafana dashboard and provisioning, against the platform's metrics
registry, its services file and docker-compose.yml.

promtool comes from Debian's ``prometheus`` package; without it these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import REPO_ROOT, SERVICES_FILE, load_services_file

OBSERVABILITY = REPO_ROOT / "deploy" / "observability"
ALERTS = OBSERVABILITY / "alerts.yml"
ALERT_TESTS = OBSERVABILITY / "alerts.test.yml"
PROMETHEUS_CONFIG = OBSERVABILITY / "prometheus.yml"
GRAFANA = OBSERVABILITY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "orgwork.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "orgwork.yml"
COMPOSE = REPO_ROOT / "docker-compose.yml"
OPERATIONS = REPO_ROOT / "docs" / "OPERATIONS.md"

SERVICE_LABEL = "orgwork_service"
DATASOURCE_UID = "orgwork-prometheus"
#: Labels a scrape puts on every series of a target: the job's, and the one naming the service that
#: the compose config (a static label) and the PodMonitor (a relabelling) set.
TARGET_LABELS = frozenset({"job", "instance", SERVICE_LABEL})
#: Series Prometheus makes itself, not the services.
PROMETHEUS_OWN = {
    "up": TARGET_LABELS,
    "ALERTS": frozenset({"alertname", "alertstate", "severity"}),
}


# -- promtool ------------------------------------------------------------------------------


def need_promtool() -> str:
    """promtool's path; the test fails (not skips, nor errors in set-up) when it is not installed."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not installed, and deploy/observability/ cannot be checked without it: install Debian's "
            "prometheus package (apt-get install -y --no-install-recommends prometheus)",
            pytrace=False,
        )
    return path


def run(*args: str | Path, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_the_alert_rules_pass_promtool_check() -> None:
    promtool = need_promtool()
    result = run(promtool, "check", "rules", ALERTS)
    assert result.returncode == 0, output(result)


def test_the_alert_rules_pass_their_unit_tests() -> None:
    promtool = need_promtool()
    result = run(promtool, "test", "rules", ALERT_TESTS)
    assert result.returncode == 0, output(result)
    assert "SUCCESS" in result.stdout, output(result)


def test_promtool_fails_a_broken_rule_file(tmp_path: Path) -> None:
    """The check can fail: a rule whose expression does not parse, and a rule with no expression."""
    promtool = need_promtool()
    unparsable = tmp_path / "unparsable.yml"
    unparsable.write_text(
        "groups:\n  - name: broken\n    rules:\n      - alert: Broken\n"
        "        expr: max by (orgwork_service) (orgwork_relay_lag_seconds > 60\n"
    )
    incomplete = tmp_path / "incomplete.yml"
    incomplete.write_text("groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        for: 5m\n")
    for path in (unparsable, incomplete):
        result = run(promtool, "check", "rules", path, cwd=tmp_path)
        assert result.returncode != 0, output(result)


def test_promtool_fails_a_unit_test_the_rules_do_not_meet(tmp_path: Path) -> None:
    """The unit tests can fail: a relay 30 s behind expected to raise OrgworkRelayLagHigh (its limit is 60 s)."""
    promtool = need_promtool()
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    (tmp_path / "wrong.test.yml").write_text(
        yaml.safe_dump(
            {
                "rule_files": ["alerts.yml"],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [
                            {"series": 'orgwork_relay_lag_seconds{orgwork_service="cadre"}', "values": "30x20"}
                        ],
                        "alert_rule_test": [
                            {
                                "eval_time": "10m",
                                "alertname": "OrgworkRelayLagHigh",
                                "exp_alerts": [{"exp_labels": {"severity": "warning", "orgwork_service": "cadre"}}],
                            }
                        ],
                    }
                ],
            }
        )
    )
    result = run(promtool, "test", "rules", "wrong.test.yml", cwd=tmp_path)
    assert result.returncode != 0, output(result)


# -- the alerts themselves -------------------------------------------------------------------


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_alert_has_a_duration_a_severity_and_annotations_naming_the_service() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), names
    for rule in rules:
        name = rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{name}: no for:"
        assert rule.get("labels", {}).get("severity") in {"critical", "warning"}, name
        annotations = rule.get("annotations", {})
        for key in ("summary", "description"):
            assert "$labels.orgwork_service" in annotations.get(key, ""), f"{name}: {key} does not name the service"
        assert re.fullmatch(r"docs/OPERATIONS\.md#[a-z0-9-]+", annotations.get("runbook_url", "")), name


def test_no_alert_depends_on_a_job_name() -> None:
    """The same rules serve compose's static scrape and the Prometheus Operator's PodMonitor."""
    for rule in alert_rules():
        expr = strip_strings(rule["expr"])
        assert "job" not in {label for _, labels in groupings(expr) for label in labels}, rule["alert"]
        for _, matchers in selectors(rule["expr"]):
            assert "job" not in {label for label, _, _ in matchers}, rule["alert"]


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_silent() -> None:
    fires: set[str] = set()
    silent: set[str] = set()
    for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "never seen firing"
    assert names - silent == set(), "never seen silent"
    assert (fires | silent) - names == set(), "tests of alerts that do not exist"


def services_with_metrics() -> dict[str, int]:
    """Every service of the services file that serves /metrics, and its port."""
    return {
        name: int(table["metrics_port"])
        for name, table in load_services_file(SERVICES_FILE).items()
        if "metrics_port" in table
    }


def test_the_absent_alert_names_every_service_of_the_services_file() -> None:
    (rule,) = [rule for rule in alert_rules() if rule["alert"] == "OrgworkServiceAbsent"]
    named = set(re.findall(r'absent\(\s*up\{\s*orgwork_service\s*=\s*"([^"]+)"\s*\}\s*\)', rule["expr"]))
    assert named == set(services_with_metrics())


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the document's headings, and any it sets explicitly."""
    anchors = set(re.findall(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""", markdown))
    anchors |= set(re.findall(r"\{#([\w-]+)\}", markdown))
    seen: dict[str, int] = {}
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_fence or heading is None:
            continue
        text = re.sub(r"<[^>]+>", "", heading.group(1)).lower()
        slug = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN").replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_github_anchors_are_computed_as_github_does() -> None:
    doc = "# Operations\n## Relay lag\n## Store horizon age (writers)\n```\n# not a heading\n```\n## Relay lag\n"
    assert github_anchors(doc) == {"operations", "relay-lag", "store-horizon-age-writers", "relay-lag-1"}


def test_every_runbook_is_a_section_of_the_operations_doc() -> None:
    assert OPERATIONS.is_file(), f"{OPERATIONS.relative_to(REPO_ROOT)} is missing: the alerts' runbooks point into it"
    anchors = github_anchors(OPERATIONS.read_text())
    wanted = {rule["annotations"]["runbook_url"].partition("#")[2] for rule in alert_rules()}
    assert wanted - anchors == set(), "runbook anchors with no section in docs/OPERATIONS.md"


# -- metric names ----------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"(?<![\w:])([A-Za-z_:][\w:]*+)?\s*\{([^{}]*)\}")
_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_IDENTIFIER = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*+)(?!\s*\()")
#: PromQL's operators and keywords, and its aggregations (followed by "by (...)" rather than "(").
KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"}
    | {"inf", "nan", "atan2", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)


def strip_strings(expr: str) -> str:
    return _STRING.sub('""', expr)


def selectors(expr: str) -> Iterator[tuple[str | None, list[tuple[str, str, str]]]]:
    """Each ``name{matchers}`` of the expression: the name (None for ``{...}`` alone) and its matchers."""
    for match in _SELECTOR.finditer(expr):
        yield match.group(1), _MATCHER.findall(match.group(2))


def groupings(expr: str) -> list[tuple[str, list[str]]]:
    """Each ``by (...)``, ``on (...)``... of the expression (strings already stripped) and its labels."""
    return [
        (kind, [label.strip() for label in labels.split(",") if label.strip()])
        for kind, labels in _GROUPING.findall(expr)
    ]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (Grafana's $variables allowed)."""
    bare = strip_strings(expr)
    bare = re.sub(r"\{[^{}]*\}", " ", bare)
    bare = _GROUPING.sub(" ", bare)
    bare = _RANGE.sub(" ", bare)
    names = set(_IDENTIFIER.findall(bare)) - KEYWORDS
    names |= {name for name, matchers in selectors(expr) for label, _, value in matchers if label == "__name__"}
    return names


def test_metric_names_are_read_from_expressions() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, method) (rate(orgwork_rpc_duration_seconds_bucket{orgwork_service=~"$s",'
        ' method!="x"}[$__rate_interval]))) / ignoring (method) group_left sum(up offset 5m) > bool 1e3'
        " or absent(orgwork_relay_leader) unless on (orgwork_service) count without (instance) (process_open_fds)"
    )
    assert metric_names(expr) == {
        "orgwork_rpc_duration_seconds_bucket",
        "up",
        "orgwork_relay_leader",
        "process_open_fds",
    }
    assert [kind for kind, _ in groupings(strip_strings(expr))] == ["by", "ignoring", "on", "without"]


def registry_series() -> dict[str, frozenset[str]]:
    """Every sample name the platform's registry exports, with the labels its series carry."""
    from prometheus_client.metrics import MetricWrapperBase

    from shared.runtime.observability import metrics

    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
        "unknown": ("",),
    }
    series: dict[str, set[str]] = {}
    for family in metrics.REGISTRY.collect():
        for suffix in suffixes.get(family.type, ("",)):
            series.setdefault(family.name + suffix, set())
        for sample in family.samples:  # the process and runtime collectors, and any child already made
            series.setdefault(sample.name, set()).update(sample.labels)
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for suffix in suffixes[str(value._type)]:
                labels = set(value._labelnames) | ({"le"} if suffix == "_bucket" else set())
                series.setdefault(value._name + suffix, set()).update(labels)
    return {name: frozenset(labels) for name, labels in series.items()}


@pytest.fixture(scope="module")
def exported() -> dict[str, frozenset[str]]:
    return registry_series()


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        panel
        for top in board["panels"]
        for panel in ([top] if top.get("type") != "row" else top.get("panels", []))
        if panel.get("type") != "row"
    ]


def variable_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """Each query variable's ``label_values(selector, label)``: the selector and the label."""
    found = []
    for variable in board["templating"]["list"]:
        if variable.get("type") != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", query)
        assert match, f"variable {variable['name']}: {query!r} is not label_values(selector, label)"
        found.append((match.group(1), match.group(2)))
    return found


def expressions() -> list[tuple[str, str]]:
    """Every PromQL expression shipped: (where, expression)."""
    found = [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    board = dashboard()
    for panel in panels(board):
        found += [(f"panel {panel['title']!r}", target["expr"]) for target in panel.get("targets", [])]
    found += [(f"variable {label}", selector) for selector, label in variable_queries(board)]
    return found


def test_the_platform_metrics_are_labelled_with_the_service(exported: dict[str, frozenset[str]]) -> None:
    platform = {name: labels for name, labels in exported.items() if name.startswith("orgwork_")}
    assert platform
    for name, labels in platform.items():
        assert SERVICE_LABEL in labels and "service" not in labels, name


def test_every_metric_the_alerts_and_the_dashboard_read_is_exported(exported: dict[str, frozenset[str]]) -> None:
    used: dict[str, set[str]] = {}
    for where, expr in expressions():
        for name in metric_names(expr):
            used.setdefault(name, set()).add(where)
    assert {"orgwork_relay_lag_seconds", "orgwork_rpc_duration_seconds_bucket", "up"} <= set(used)
    unknown = {
        name: sorted(where) for name, where in used.items() if name not in exported and name not in PROMETHEUS_OWN
    }
    assert unknown == {}, "metrics not in shared.runtime.observability.metrics.REGISTRY"


def test_every_label_matched_or_grouped_on_is_one_the_series_carry(exported: dict[str, frozenset[str]]) -> None:
    platform_labels = frozenset().union(*(labels for name, labels in exported.items() if name.startswith("orgwork_")))

    def labels_of(name: str) -> frozenset[str]:
        if name == "ALERTS":
            return PROMETHEUS_OWN["ALERTS"] | platform_labels | TARGET_LABELS
        if name in PROMETHEUS_OWN:
            return PROMETHEUS_OWN[name]
        own = exported.get(name, frozenset())
        # The platform's series carry orgwork_service themselves; the others get it from the target.
        return own if name.startswith("orgwork_") else own | TARGET_LABELS

    problems = []
    for where, expr in expressions():
        for name, matchers in selectors(expr):
            if name is None:
                continue
            for label, _, _ in matchers:
                if label != "__name__" and label not in labels_of(name):
                    problems.append(f"{where}: {name} has no label {label}")
        available = frozenset().union(*(labels_of(name) for name in metric_names(expr)))
        for kind, labels in groupings(strip_strings(expr)):
            problems += [
                f"{where}: {kind} ({label}): no series read has it" for label in labels if label not in available
            ]
    for selector, label in variable_queries(dashboard()):
        for name in metric_names(selector):
            if label not in labels_of(name):
                problems.append(f"variable: {name} has no label {label}")
    assert problems == []


# -- the compose Prometheus ------------------------------------------------------------------


def compose_service(name: str) -> dict[str, Any]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert name in services, f"docker-compose.yml has no service {name}"
    return services[name]


def bind_mounts(service: dict[str, Any]) -> dict[Path, str]:
    """The service's bind mounts of repository paths: repository path -> path in the container."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":")
        if source.startswith("./"):
            mounts[(REPO_ROOT / source).resolve()] = rest.split(":")[0]
    return mounts


def test_the_prometheus_config_passes_promtool_laid_out_as_compose_mounts_it(tmp_path: Path) -> None:
    promtool = need_promtool()
    service = compose_service("prometheus")
    mounts = bind_mounts(service)
    assert PROMETHEUS_CONFIG.resolve() in mounts and ALERTS.resolve() in mounts, mounts
    for source, target in mounts.items():
        copy = tmp_path / target.lstrip("/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy)
    flags = [arg.partition("=")[2] for arg in service.get("command", []) if arg.startswith("--config.file=")]
    config_path = flags[0] if flags else "/etc/prometheus/prometheus.yml"
    assert config_path == mounts[PROMETHEUS_CONFIG.resolve()]
    result = run(promtool, "check", "config", tmp_path / config_path.lstrip("/"), cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert "1 rule files found" in result.stdout, output(result)


def test_promtool_fails_a_config_whose_rule_file_is_missing(tmp_path: Path) -> None:
    promtool = need_promtool()
    shutil.copy(PROMETHEUS_CONFIG, tmp_path / "prometheus.yml")
    result = run(promtool, "check", "config", tmp_path / "prometheus.yml", cwd=tmp_path)
    assert result.returncode != 0, output(result)


def test_prometheus_scrapes_every_service_metrics_port_every_15s_and_nothing_else() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    assert config["global"]["scrape_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    scraped: dict[str, str] = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job.get("scrape_interval", "15s") == "15s"
        for group in job["static_configs"]:
            for target in group["targets"]:
                assert target not in scraped, f"{target} scraped twice"
                scraped[target] = group.get("labels", {}).get(SERVICE_LABEL)
    expected = {f"{name}:{port}": name for name, port in services_with_metrics().items()}
    assert scraped == expected, "targets (host:metrics_port) and their orgwork_service label"
    for target in scraped:
        host = target.partition(":")[0]
        assert host in compose, f"{target}: no compose service {host}"


# -- Grafana -----------------------------------------------------------------------------------


def test_the_dashboard_parses_with_unique_panels_each_with_a_query() -> None:
    board = dashboard()
    found = panels(board)
    assert found
    ids = [panel["id"] for panel in found]
    assert len(ids) == len(set(ids)), ids
    for panel in found:
        targets = panel.get("targets", [])
        assert targets and all(target.get("expr", "").strip() for target in targets), panel["title"]
        assert len({target["refId"] for target in targets}) == len(targets), panel["title"]
        for source in [panel.get("datasource"), *(target.get("datasource") for target in targets)]:
            assert source == {"type": "prometheus", "uid": DATASOURCE_UID}, panel["title"]
        for target in targets:
            assert f'{SERVICE_LABEL}=~"${SERVICE_LABEL}"' in target["expr"], f"{panel['title']}: not filtered"


def test_the_dashboard_panels_do_not_overlap() -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard()):
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24, panel["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_the_dashboard_has_a_service_variable_and_shows_what_operations_watch() -> None:
    board = dashboard()
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == SERVICE_LABEL]
    assert variable["type"] == "query" and variable["datasource"]["uid"] == DATASOURCE_UID
    assert variable["multi"] and variable["includeAll"]
    shown = set().union(*(metric_names(target["expr"]) for p in panels(board) for target in p["targets"]))
    assert {
        "orgwork_events_appended_total",
        "orgwork_events_published_total",
        "orgwork_relay_lag_seconds",
        "orgwork_store_horizon_lag_seconds",
        "orgwork_checkpoint_age_seconds",
        "orgwork_events_handled_total",
        "orgwork_dead_letters_total",
        "orgwork_dead_letters_open",
        "orgwork_rpc_duration_seconds_bucket",
        "orgwork_errors_total",
        "orgwork_deadlines_missed_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    } <= shown
    quantiles = {
        float(q)
        for p in panels(board)
        for t in p["targets"]
        for q in re.findall(r"histogram_quantile\(([\d.]+)", t["expr"])
    }
    assert {0.5, 0.99} <= quantiles


def test_grafana_is_provisioned_with_the_dashboard_and_the_prometheus_it_names() -> None:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file"
    mounts = bind_mounts(compose_service("grafana"))
    assert mounts.get((GRAFANA / "provisioning").resolve()) == "/etc/grafana/provisioning", mounts
    assert mounts.get((GRAFANA / "dashboards").resolve()) == provider["options"]["path"], mounts
    home = compose_service("grafana").get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home is not None:
        assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
