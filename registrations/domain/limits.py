"""The contract's batch size, one constant for the whole project."""

# A call carries 1 to 200 items (SOAP maxOccurs, the REST items array); validation and
# revalidation are queued in tasks of the same size.
MAX_BATCH = 200
