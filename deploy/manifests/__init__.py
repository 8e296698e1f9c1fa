"""The deployment files, rendered from one model: ``python -m deploy.manifests`` (``make manifests``).

What it writes, each from the module named:

``k8s/base/``         every workload (``workloads``), its network policy
                      (``policies``), the data services and the broker's users
                      (``data_services``), and the kustomization (``kustomize``)
``k8s/local/``        the overlay for kind or minikube
``k8s/production/``   the overlay for a real cluster: three database
                      instances with backups, three broker nodes, monitoring
                      (``monitoring``)
``docker-compose.yml`` the whole platform on one host (``compose``)

Ports come from ``services.toml`` (``shared.config.service_ports``), broker
permissions from ``shared.runtime.process.broker``, Secret names from
``shared.cli.deploy_secrets``, alerts from ``deploy/observability/alerts.yml``:
each is written once, where the code that uses it lives. The test suite renders
again and fails when a checked-in file differs, then checks the rendered
overlays with kubectl kustomize, kubernetes-validate and checkov.
"""
