"""Google Cloud Billing export reader; importing registers it."""

from costrail.sources.gcp import reader as reader
