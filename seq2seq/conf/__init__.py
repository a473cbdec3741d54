"""Hydra config groups (a package so that installed wheels find them).

Hydra imports this package to read the YAML files, whether for seq2seq-train or for `compose`, so
importing it is where their schemas (`seq2seq.config_schema`) are registered.
"""

from seq2seq.config_schema import store_schemas

store_schemas()
