"""The public's pages and the staff's work queue, served by the gateway as HTML.

Server-rendered (Jinja2), in Chinese first with an English switch, working
without JavaScript (``static/site.js`` only adds conveniences: counters,
copy and print). Every page reaches the services through the gateway's own
public routes, so a page checks, seals and rate-limits exactly as the JSON
API does (``services.gateway.app``). ``pages`` answers the requests;
``forms`` keeps the CSRF token; ``i18n`` the two languages.
"""

from services.gateway.site.pages import Site

__all__ = ["Site"]
