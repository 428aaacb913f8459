"""Bundled scenarios, installed as ``coopsim.scenarios`` (see :mod:`coopsim.engine.catalog`)."""
