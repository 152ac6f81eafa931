"""The monitor: stored observations -> typed events -> routed, delivered alerts; the CLI."""
