"""The contract's custom checks, registered with pandera so that the YAML schemas can name them:
`upload` (the forms' rules: GB 32100, GB 11643, whitespace, cross-field order) and `tables` (the
published tables' notations, subtotals and totals). `calling` says how each may be asked."""

from . import tables, upload
from .calling import EXPLAINERS, Calling, ask, calling_of

__all__ = ["EXPLAINERS", "Calling", "ask", "calling_of", "tables", "upload"]
