"""Preference pairs for DPO, reward models and GRPO, written by make_data.py."""
