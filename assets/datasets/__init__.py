"""The datasets stage (see ARCHITECTURE.md)."""
