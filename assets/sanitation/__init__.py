"""The sanitation stage (see ARCHITECTURE.md)."""
