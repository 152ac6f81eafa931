"""Local replicas of the public sources, and synthetic data, for tests, benchmarks and the demo."""
