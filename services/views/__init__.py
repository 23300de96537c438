"""Read models: what a page or a list shows, gathered in joined queries inside a read scope."""
