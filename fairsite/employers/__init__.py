"""employers domain."""
