"""The MYOB Business API v2 over the shared request loop: a Bearer token, ``x-myobapi-key`` (our client id) and
``x-myobapi-version: v2`` on every call, the company file's URI as the base, OData ``$filter`` / ``$top`` /
``$skip`` lists answered as ``{"Items", "NextPageLink", "Count"}``, and POST answering 201 with a ``Location``."""
from __future__ import annotations

from collections.abc import Iterator

from ..errors import RetryableError
from ..http import ApiClient
from . import errors

PAGE_SIZE = 1000  # MYOB's largest $top


class MyobClient(ApiClient):
    platform = "MYOB"
    trace_headers = ("x-myobapi-requestid",)
    classify = staticmethod(errors.classify)

    def __init__(self, api_base: str, company_file_id: str, api_key: str, token_getter, cftoken: str = "",
                 **kwargs) -> None:
        base = f"{api_base.rstrip('/')}/{company_file_id}" if company_file_id else api_base
        super().__init__(base, token_getter, **kwargs)
        self.api_key, self.cftoken = api_key, cftoken

    def default_headers(self) -> dict:
        headers = {"Accept": "application/json", "x-myobapi-key": self.api_key, "x-myobapi-version": "v2"}
        if self.cftoken:  # legacy company-file credentials (files not yet on the granular scopes)
            headers["x-myobapi-cftoken"] = self.cftoken
        return headers

    def read(self, path: str, uid: str) -> dict:
        return self.request("GET", f"{path}/{uid}")

    def create(self, path: str, body: dict) -> dict:
        """POST, then read the record at the ``Location`` MYOB answers (the 201 has no body)."""
        response = self.send("POST", path, body=body)
        location = response.headers.get("Location", "")
        if not location:
            raise RetryableError("MYOB created the record but named no Location")
        return self.request("GET", location)

    def update(self, path: str, uid: str, body: dict) -> dict:
        """PUT (with the RowVersion in the body), then read the record again for its new RowVersion."""
        self.send("PUT", f"{path}/{uid}", body=body)
        return self.read(path, uid)

    def delete(self, path: str, uid: str) -> None:
        self.send("DELETE", f"{path}/{uid}")

    def rows(self, path: str, odata_filter: str = "", orderby: str = "", size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every row of a list, page by page with ``$top`` / ``$skip`` while ``NextPageLink`` says more follow."""
        skip = 0
        while True:
            params = {"$top": size, "$skip": skip}
            if odata_filter:
                params["$filter"] = odata_filter
            if orderby:
                params["$orderby"] = orderby
            body = self.request("GET", path, params=params)
            items = body.get("Items") or []
            yield from items
            if not body.get("NextPageLink") or not items:
                return
            skip += len(items)


def quote(value: str) -> str:
    """A text literal for ``$filter`` (a quote doubled)."""
    return "'" + str(value).replace("'", "''") + "'"
