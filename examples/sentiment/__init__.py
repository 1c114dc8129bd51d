"""The sentiment task of the tour."""
