"""Plan and apply: desired state from the declarations, live state from the account, the pure
planner between them, the renderers and the applier of its Plan (DESIGN.md "Plan semantics")."""
