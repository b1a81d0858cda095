"""tallies: views views."""
