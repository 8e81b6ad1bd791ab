"""HTTP API: aiohttp application, routes, auth, problem+json, OpenAPI."""
