"""Every form of every app parses ids and numbers strictly: found by walking the apps' form
modules, so a new form that forgets the portal's base is caught the day it is added."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django import forms

from governance.fields import StrictIdsFormMixin

APPS = ("governance", "charters", "compute", "roadmap")


def form_modules():
    for app in APPS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
        yield module
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            yield importlib.import_module(f"{module.__name__}.{info.name}")


def portal_forms():
    for module in form_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_the_walk_finds_forms_of_every_app():
    found = {cls.__module__.split(".")[0] for cls in portal_forms()}
    assert found == set(APPS)


def test_every_form_parses_ids_and_numbers_strictly():
    loose = [f"{cls.__module__}.{cls.__name__}" for cls in portal_forms() if not issubclass(cls, StrictIdsFormMixin)]
    assert loose == []
