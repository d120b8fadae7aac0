"""AuthKong: a self-hosted, privacy-first proof-of-work CAPTCHA service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("authkong")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
