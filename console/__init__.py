"""The web console: the pages duty officers, analysts, units and supervisors use in a browser, served by
FastAPI from Jinja2 templates with htmx, on the same alerts database as `serve` and the shell commands."""
