"""iplos: the data-access process of Norway's IPLOS register.

Catalogue of what the registers hold, a synthetic register, statistical disclosure control,
applications as event-sourced cases, linkage by a trusted third party, and delivery.
"""

__version__ = "0.1.0"
