"""Azure Cost Management export reader (EA and MCA); importing registers it."""

from costrail.sources.azure import reader as reader
