"""Every read, always through the caller's visibility (spec §8); a selector never writes."""
