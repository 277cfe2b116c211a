"""Pages of the public view, one module per noun (decisions, charters, credits, usage, roadmap,
the record, the open data)."""
