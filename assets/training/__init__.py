"""The training stage (see ARCHITECTURE.md)."""
