"""heprag.ingest."""
