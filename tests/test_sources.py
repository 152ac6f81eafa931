"""The source registry: one definition per source, and everything named after it."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from storage.settings import Settings
from storage.sources import SOURCES, Source, register
from tests.support.cli import ROOT

README = (ROOT / "README.md").read_text()


def _resolve(dotted: str) -> object:
    module, _, attr = dotted.partition(":")
    return (
        getattr(importlib.import_module(module), attr) if attr else importlib.import_module(module)
    )


@pytest.mark.parametrize("name", list(SOURCES))
def test_everything_about_a_source_carries_its_name(name: str) -> None:
    source = SOURCES[name]
    assert source.name == name
    assert callable(_resolve(source.check))
    assert source.check.startswith(f"checks.{name}:")
    assert name == importlib.import_module(f"checks.{name}").SOURCE
    assert source.spider == f"spiders.{name}"
    assert name == importlib.import_module(source.spider).SOURCE
    assert source.replica.startswith(f"sandbox.{name}:") and isinstance(
        _resolve(source.replica), type
    )
    assert source.interval_setting.startswith(f"{name}_")
    assert source.interval_setting in Settings.model_fields
    assert source.interval(Settings()) > timedelta(0)
    assert list(ROOT.glob(f"tests/test_{name}*.py")), f"no tests/test_{name}*.py"
    assert f"`{name}`" in README and f"`docketwatch {name} check" in README


def test_the_browser_sources_are_the_ones_looked_up_in_a_browser() -> None:
    assert [s.name for s in SOURCES.values() if s.browser] == ["acis", "detainee_locator"]


def test_a_source_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(SOURCES["acis"])
    assert len(SOURCES) == 5


def test_an_interval_setting_must_say_its_unit() -> None:
    odd = Source(**{**SOURCES["acis"].__dict__, "interval_setting": "heartbeat_seconds"})
    with pytest.raises(ValueError, match="_minutes or _hours"):
        odd.interval(Settings())
