"""costrail: cost intelligence for AI workloads — FOCUS-normalised bills, waste findings, guards."""

__version__ = "0.1.0"
