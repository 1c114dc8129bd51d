"""Domain services shared by every protocol (native and HF-compatible routes)."""
