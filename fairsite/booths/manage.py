"""booths: manage views."""
