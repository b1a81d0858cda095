"""live: views views."""
