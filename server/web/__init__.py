"""Request-level web concerns around the API: CSRF, login lifetimes, the app, its docs page, calendar feeds."""
