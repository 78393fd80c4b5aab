"""Every read and write of the service, one module per aggregate. Ownership is enforced here,
once: a function that writes takes the caller's organisation and touches only what it owns."""
