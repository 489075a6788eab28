"""ELFE community energy management system."""
