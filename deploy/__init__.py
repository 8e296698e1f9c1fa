"""Deployment tooling: the manifests renderer (``deploy.manifests``), the image, the observability files."""
