"""Infrastructure: the HostedTenant component and the parts it is built from."""
