"""Helpers the tests share (no test module imports ``conftest`` or another test module)."""
