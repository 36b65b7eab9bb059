"""The console's pages, a module per group; each `register(app, web)` adds its routes."""
