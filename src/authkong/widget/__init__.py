"""Browser sources of the widget (JavaScript served as static files)."""
