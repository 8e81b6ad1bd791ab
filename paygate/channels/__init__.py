"""Channel adapters (pure) and the one shared HTTP transport."""
