"""Tsunagu (つなぐ): disaster-time welfare coordination for Japanese municipalities."""

__version__ = "0.1.0"
