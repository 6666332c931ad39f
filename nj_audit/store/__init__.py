"""The state store: judged uploads kept as folded per-record states and small tallies, partitioned
by upload day, so that any period up to a year is audited without reading its files again
(`state add`, `audit --state`, `state compact`, `state info`; docs/scale.md).

Nothing is imported here, so that the engines may import the store's reader without a cycle."""
