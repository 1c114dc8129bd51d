"""The task library: small one-word-answer tasks and the adapters trained on them."""
