"""The spiders' callbacks, checked once here rather than by Scrapy at every response
(``WARN_ON_GENERATOR_RETURN_VALUE`` is off in crawler/settings.py): a generator callback
that returns a value loses that value silently."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import scrapy
from scrapy.utils.misc import is_generator_with_return_value

import spiders
from crawler import settings


def _methods() -> dict[str, Callable[..., Any]]:
    """Every method the classes of spiders/ define or inherit from presswatch's code."""
    found = {}
    for module in pkgutil.iter_modules(spiders.__path__):
        loaded = importlib.import_module(f"spiders.{module.name}")
        for name, spider in inspect.getmembers(loaded, inspect.isclass):
            if not issubclass(spider, scrapy.Spider) or spider.__module__ != loaded.__name__:
                continue
            for attribute, function in inspect.getmembers(spider, inspect.isfunction):
                if function.__module__.startswith(("spiders.", "crawler.")):
                    found[f"{name}.{attribute}"] = function
    return found


METHODS = _methods()


def test_scrapy_no_longer_checks_each_response_callback() -> None:
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False


def test_the_check_finds_a_generator_that_returns_a_value() -> None:
    def parse(response: object) -> Iterator[object]:
        yield response
        return "lost"

    assert is_generator_with_return_value(parse)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_no_spider_method_is_a_generator_that_returns_a_value(name: str) -> None:
    assert not is_generator_with_return_value(METHODS[name])
