"""Blueprints, split by who uses them."""
