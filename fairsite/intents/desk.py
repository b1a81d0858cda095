"""intents: desk views."""
