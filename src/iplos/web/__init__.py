"""The web interface: a JSON API (FastAPI, OpenAPI at /docs) over the case service.

Every command and query of `iplos.cases` has a route; every route is authenticated (see
`auth.Authenticator`) and authorised by role. An applicant asking for a case that is not theirs
gets 404, exactly as for a case that does not exist, so case numbers cannot be probed.
"""

from __future__ import annotations

from iplos.web.app import create_app
from iplos.web.auth import Authenticator, BearerTokens

__all__ = ["Authenticator", "BearerTokens", "create_app"]
