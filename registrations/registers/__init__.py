"""The reference registers' import, the address register and geocoding."""
