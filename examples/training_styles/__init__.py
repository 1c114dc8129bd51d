"""The training-styles figures on the real base."""
