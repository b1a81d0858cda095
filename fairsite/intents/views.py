"""intents: views views."""
