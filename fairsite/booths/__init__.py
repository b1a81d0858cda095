"""booths domain."""
