"""GitHub side of the action (issue 6): REST client, sticky comment, status/check, event, measurement files."""
