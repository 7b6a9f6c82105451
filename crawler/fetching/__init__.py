"""Fetching pages politely and safely: link and address policy, middlewares, DNS."""
