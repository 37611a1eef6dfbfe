"""GitHub side of the action: REST client, sticky comment, status/check, event, measurement files."""
