"""booths: views views."""
