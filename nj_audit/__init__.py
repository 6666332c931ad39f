"""nj-audit: data-quality audit of uploads to a municipal health information platform."""

__version__ = "0.1.0"
