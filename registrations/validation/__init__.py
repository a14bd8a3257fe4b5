"""Validation (spec §4.2): the remark rules, the set-wise engine, and running it on registrations."""
