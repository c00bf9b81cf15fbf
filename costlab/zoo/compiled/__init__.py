"""The built-in models pre-parsed, one module per model (see costlab.zoo)."""
