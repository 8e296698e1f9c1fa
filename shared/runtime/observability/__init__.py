"""What operators see of a service: its Prometheus metrics and its structured logs."""
