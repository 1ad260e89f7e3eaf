"""Pure mappings from the places fleets already keep metrics to feed records."""
