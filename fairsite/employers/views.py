"""employers: views views."""
