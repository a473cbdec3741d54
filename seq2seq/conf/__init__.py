"""Hydra config groups (a package so that installed wheels find them)."""
