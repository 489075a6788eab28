"""Fixtures of the dashboard tests: the dataset of :mod:`web_dataset`."""

from web_dataset import dashboard

__all__ = ["dashboard"]
