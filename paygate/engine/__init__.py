"""Workers: dispatch, inquiry and failover, channel health, clocks, metrics."""
