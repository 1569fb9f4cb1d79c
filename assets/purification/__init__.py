"""The purification stage (see ARCHITECTURE.md)."""
