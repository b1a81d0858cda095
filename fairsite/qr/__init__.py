"""qr domain."""
