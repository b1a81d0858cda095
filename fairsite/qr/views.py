"""qr: views views."""
