"""heprag.app."""
