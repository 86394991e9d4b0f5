"""Wave's public GraphQL API over the shared request loop: every call is ``POST /graphql/public`` with a Bearer
token; an answer's ``errors`` or a mutation's ``didSucceed: false`` become our error classes.

Why not gql's transport: our request loop (``connectors.http.ApiClient``) owns budgets, the one refresh on 401,
the exchange log and the error classes; gql's RequestsHTTPTransport would bypass all four. The queries are
plain GraphQL documents checked against the vendored SDL in tests (``tests/connectors/wave/test_translate.py``)
and gql itself is used, against the sandbox, as the independent check.
"""
from __future__ import annotations

from typing import Iterator

from ..http import ApiClient, parse_json
from . import errors

PAGE_SIZE = 100


class WaveClient(ApiClient):
    platform = "Wave"
    classify = staticmethod(errors.classify)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """``data`` of one operation; GraphQL errors raised as our error classes."""
        response = self.send("POST", self.base_url, body={"query": query, "variables": variables or {}})
        body = parse_json(response)
        if body.get("errors"):
            raise errors.graphql_errors(response, body)
        return body.get("data") or {}

    def mutate(self, name: str, query: str, variables: dict) -> dict:
        """The mutation's output object, or its ``inputErrors`` raised (duplicate / validation)."""
        output = self.graphql(query, variables).get(name) or {}
        if not output.get("didSucceed"):
            raise errors.input_errors(name, output.get("inputErrors") or [], output)
        return output

    def nodes(self, query: str, field: str, variables: dict) -> Iterator[dict]:
        """Every node of ``business { <field>(page, pageSize) }`` page by page until ``totalPages``."""
        page = 1
        while True:
            data = self.graphql(query, {**variables, "page": page, "pageSize": PAGE_SIZE})
            connection = (data.get("business") or {}).get(field) or {}
            yield from (edge["node"] for edge in connection.get("edges") or [] if edge.get("node"))
            if page >= int((connection.get("pageInfo") or {}).get("totalPages") or 1):
                return
            page += 1
