"""The spec layer: declarations as YAML files → validated, cross-checked desired state.

Knows YAML, JSON Schema and templates; never HTTP (no httpx, no client, no sandbox import).
"""
