"""movecoach: a wearable movement coach (host side)."""

__version__ = "0.1.0"
