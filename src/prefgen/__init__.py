"""prefgen: synthetic preference data from your own policy, scored by verifiable rewards."""

__version__ = "0.1.0"
