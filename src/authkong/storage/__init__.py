"""Persistence: the registry (sites, settings) and the ephemeral store (single use, counters)."""
