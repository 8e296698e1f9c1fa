"""Command-line tools of the platform (orgctl)."""
