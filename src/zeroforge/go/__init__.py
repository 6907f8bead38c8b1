"""Go board geometry, the 8 symmetries and network input planes (pure numpy, no torch)."""
