"""The address register as the gateways read it: the known addresses near a point (spec §7).

The look-up itself lives with the register (`registrations.registers.addresses`), which the
worker's geocoding and the cleaning admission use too; this is the gateways' way in.
"""

from registrations.registers.addresses import DEFAULT_RADIUS_M, InvalidCoordinates, NearbyAddress, addresses_near

__all__ = ["DEFAULT_RADIUS_M", "InvalidCoordinates", "NearbyAddress", "addresses_near"]
