"""Channel adapters: each translates platform updates into Inbound and sends Outbound."""
