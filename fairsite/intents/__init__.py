"""intents domain."""
