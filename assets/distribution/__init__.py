"""The distribution stage (see ARCHITECTURE.md)."""
