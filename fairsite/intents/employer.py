"""intents: employer views."""
