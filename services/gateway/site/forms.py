"""Forms the public and staff post: a CSRF token on each, and what they typed kept for a second try.

The token is the double-submit kind: a random value in an HttpOnly,
SameSite=Strict cookie, repeated in a hidden field of every form, and a post
whose field does not match its cookie is refused before anything is called.
Another site can neither read the cookie nor make the browser send it along
with a cross-site post; and no state is kept, so any gateway replica checks
any form. Over HTTPS the cookie is ``Secure`` and ``__Host-`` prefixed.
"""

from __future__ import annotations

import hmac
import secrets

from werkzeug.wrappers import Request, Response

FIELD = "csrf_token"


def cookie_name(request: Request) -> str:
    return "__Host-orgwork_csrf" if request.is_secure else "orgwork_csrf"


def token_for(request: Request) -> str:
    """The browser's token: the one its cookie holds, or a new one (``keep`` sets it on the response)."""
    current = request.cookies.get(cookie_name(request), "")
    return current if 32 <= len(current) <= 64 else secrets.token_urlsafe(32)


def keep(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(request),
        token,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path="/",
    )


def is_genuine(request: Request) -> bool:
    """Whether a post carries the token its own cookie holds."""
    cookie = request.cookies.get(cookie_name(request), "")
    sent = request.form.get(FIELD, "")
    return len(cookie) >= 32 and hmac.compare_digest(cookie.encode(), sent.encode())
