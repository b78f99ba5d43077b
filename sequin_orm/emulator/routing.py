"""A tiny method + path-pattern router; handlers run holding the state lock."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sequin_orm.emulator.protocol import Request, Response, not_found, summary_error

Handler = Callable[..., Response]


class Router:
    """Maps ``(method, /path/{param})`` to ``handler(target, request, *params)``; a final
    ``{rest*}`` takes the rest of the path, slashes included."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for ``method`` and ``pattern``."""
        expression = re.sub(r"\{\w+\}", "([^/]+)", pattern).replace("{rest*}", "(.+)")
        regex = re.compile(f"^{expression}$")

        def register(handler: Handler) -> Handler:
            self._routes.append((method, regex, handler))
            return handler

        return register

    def include(self, other: Router) -> None:
        """Add every route of ``other`` to this router."""
        self._routes.extend(other._routes)

    def dispatch(self, target: Any, request: Request) -> Response:
        """Call the matching handler; 404 for an unknown path, 405 for a wrong method."""
        allowed: list[str] = []
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            if method == request.method:
                return handler(target, request, *match.groups())
            allowed.append(method)
        if allowed:
            error = summary_error(405, "Method not allowed")
            error.headers["Allow"] = ", ".join(allowed)
            raise error
        raise not_found()
