"""halab: a keepalived + LVS + nginx high-availability lab built in network namespaces."""
