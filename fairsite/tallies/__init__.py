"""tallies domain."""
