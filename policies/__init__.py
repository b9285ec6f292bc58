"""The shipped feedback-loop policies (``policies/`` at the repository root, as package data)."""
