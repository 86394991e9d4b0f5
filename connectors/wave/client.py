"""Wave's public GraphQL API through gql (a maintained GraphQL client) over the shared request loop.

Every call is ``POST /graphql/public`` with a Bearer token. gql parses each document and validates it against the
vendored SDL (``spec/schema.graphql``) before anything is sent, so a query that asks for a field Wave does not have
fails here, in our process, with the field named. gql's transport is ours (:class:`LoopTransport`): the request
itself goes through ``connectors.http.ApiClient``, which owns budgets, the one refresh on 401, the exchange log and
the error classes (gql's own RequestsHTTPTransport would bypass all four). An answer's ``errors`` or a mutation's
``didSucceed: false`` become our error classes.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from gql import Client, GraphQLRequest
from gql.transport.transport import Transport
from graphql import ExecutionResult, GraphQLSchema, build_schema, print_ast

from ..http import ApiClient, parse_json
from . import errors

PAGE_SIZE = 100
SCHEMA_FILE = Path(__file__).resolve().parent / "spec" / "schema.graphql"


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Wave's schema (the vendored subset), built once per process."""
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def document(query: str) -> GraphQLRequest:
    """The parsed document of one query text (a handful of distinct texts, parsed once each)."""
    return GraphQLRequest(query)


class LoopTransport(Transport):
    """gql's transport that sends through our request loop and raises our error classes."""

    def __init__(self, api: WaveClient):
        self.api = api

    def execute(self, request: GraphQLRequest, *args, text: str = "", **kwargs) -> ExecutionResult:
        """Sends the document as we wrote it (``text``, passed through by :meth:`WaveClient.graphql`), else
        gql's printed form of it."""
        response = self.api.send("POST", self.api.base_url, body={
            "query": text or print_ast(request.document), "variables": request.variable_values or {}})
        body = parse_json(response)
        if body.get("errors"):
            raise errors.graphql_errors(response, body)
        return ExecutionResult(data=body.get("data") or {})


class WaveClient(ApiClient):
    platform = "Wave"
    classify = staticmethod(errors.classify)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gql = Client(schema=schema(), transport=LoopTransport(self))

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """``data`` of one operation; GraphQL errors raised as our error classes."""
        request = GraphQLRequest(document(query), variable_values=variables or {})
        return self.gql.execute(request, text=query) or {}

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
