"""OData's multipart batch (``$batch``): many requests in one HTTP request, for the platforms that take it.

The format is the one OData has used since version 2 and keeps in version 4 (OData v4.0 Part 1, section 11.7.7,
"Multipart Batch Format"): the body of ``POST <service root>/$batch`` is ``multipart/mixed`` with a boundary;
each part is either one request (``Content-Type: application/http``, ``Content-Transfer-Encoding: binary``: a
request line ``METHOD URL HTTP/1.1``, its headers, a blank line, its body) or a **change set**, itself
``multipart/mixed``, whose requests the service applies atomically (all or none; no GET inside). The answer
(``202 Accepted`` in OData v2/v3, ``200 OK`` in v4) is ``multipart/mixed`` with one part per request or change
set, in order: a response (``HTTP/1.1 201 Created``, headers, body), or for a change set either a
``multipart/mixed`` of its responses (each with the ``Content-ID`` of its request) or, when it failed, the one
error response that rolled it back. Without ``Prefer: odata.continue-on-error`` a service may stop at the first
failure; the parts after it are then not answered.

Both sides use this module: a connector's client encodes requests and decodes responses, its sandbox decodes
requests and encodes responses. Nothing here knows a platform.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

HTTP_PART = "application/http"
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.I)
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
            412: "Precondition Failed", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}


@dataclass(frozen=True)
class SubRequest:
    """One request inside a batch: ``url`` relative to the service root (``Invoices?$filter=...``) or absolute
    (``/b1s/v2/Invoices``); header names in lower case."""

    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_id: str = ""

    def path_and_params(self, service_root: str) -> tuple[str, dict[str, str]]:
        """The request's absolute path under ``service_root`` (a path such as ``/b1s/v2``) and its query."""
        parts = urlsplit(self.url)
        path = parts.path if parts.path.startswith("/") else f"{service_root.rstrip('/')}/{parts.path}"
        return path, dict(parse_qsl(parts.query, keep_blank_values=True))


@dataclass(frozen=True)
class SubResponse:
    """One response inside a batch answer; header names in lower case."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_id: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


#: A batch is a list of these: one request (response), or a change set of several.
Group = SubRequest | list[SubRequest]
Answer = SubResponse | list[SubResponse]


# -- the client's side -------------------------------------------------------------------------------------------
def encode_requests(groups: list[Group]) -> tuple[str, bytes]:
    """(Content-Type header, body) of a ``$batch`` request carrying ``groups`` in order."""
    boundary = f"batch_{uuid.uuid4()}"
    chunks = []
    for group in groups:
        chunks.append(b"--" + boundary.encode() + b"\r\n")
        if isinstance(group, list):
            inner = f"changeset_{uuid.uuid4()}"
            chunks.append(f"Content-Type: multipart/mixed;boundary={inner}\r\n\r\n".encode())
            for number, request in enumerate(group, 1):
                chunks.append(b"--" + inner.encode() + b"\r\n")
                chunks.append(_request_part(request, request.content_id or str(number)))
            chunks.append(b"--" + inner.encode() + b"--\r\n")
        else:
            chunks.append(_request_part(group, group.content_id))
    chunks.append(b"--" + boundary.encode() + b"--\r\n")
    return f"multipart/mixed;boundary={boundary}", b"".join(chunks)


def _request_part(request: SubRequest, content_id: str) -> bytes:
    head = [f"Content-Type: {HTTP_PART}", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [f"{request.method.upper()} {request.url} HTTP/1.1"]
    headers = dict(request.headers)
    if request.body and "content-type" not in headers:
        headers["content-type"] = "application/json"
    lines += [f"{_title(name)}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode() + request.body + b"\r\n"


def decode_responses(content_type: str, body: bytes) -> list[Answer]:
    """The parts of a ``$batch`` answer, in order. Raises ``ValueError`` when it is not a multipart answer."""
    answers: list[Answer] = []
    for headers, payload in _parts(content_type, body):
        if headers.get("content-type", "").lower().startswith("multipart/mixed"):
            answers.append([_response(h, p) for h, p in _parts(headers["content-type"], payload)])
        else:
            answers.append(_response(headers, payload))
    return answers


def _response(part_headers: dict[str, str], payload: bytes) -> SubResponse:
    status_line, headers, body = _message(payload)
    words = status_line.split(" ", 2)
    if len(words) < 2 or not words[0].upper().startswith("HTTP/") or not words[1].isdigit():
        raise ValueError(f"not an HTTP response in a batch part: {status_line[:80]!r}")
    return SubResponse(int(words[1]), body, headers, part_headers.get("content-id") or headers.get("content-id", ""))


# -- the service's side ------------------------------------------------------------------------------------------
def decode_requests(content_type: str, body: bytes) -> list[Group]:
    """The requests and change sets of a ``$batch`` request, in order. Raises ``ValueError`` on a malformed body
    (no boundary, a part that is not an HTTP request, a GET or a change set inside a change set)."""
    groups: list[Group] = []
    for headers, payload in _parts(content_type, body):
        if headers.get("content-type", "").lower().startswith("multipart/mixed"):
            changeset = []
            for inner_headers, inner in _parts(headers["content-type"], payload):
                if inner_headers.get("content-type", "").lower().startswith("multipart/"):
                    raise ValueError("a change set cannot contain another change set")
                request = _request(inner_headers, inner)
                if request.method == "GET":
                    raise ValueError("a change set cannot contain a GET request")
                changeset.append(request)
            groups.append(changeset)
        else:
            groups.append(_request(headers, payload))
    return groups


def _request(part_headers: dict[str, str], payload: bytes) -> SubRequest:
    request_line, headers, body = _message(payload)
    words = request_line.split()
    if len(words) < 2 or not words[0].isalpha():
        raise ValueError(f"not an HTTP request in a batch part: {request_line[:80]!r}")
    return SubRequest(words[0].upper(), words[1], body, headers,
                      part_headers.get("content-id") or headers.get("content-id", ""))


def encode_responses(answers: list[Answer]) -> tuple[str, bytes]:
    """(Content-Type header, body) of a ``$batch`` answer."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    chunks = []
    for answer in answers:
        chunks.append(b"--" + boundary.encode() + b"\r\n")
        if isinstance(answer, list):
            inner = f"changesetresponse_{uuid.uuid4()}"
            chunks.append(f"Content-Type: multipart/mixed;boundary={inner}\r\n\r\n".encode())
            for response in answer:
                chunks.append(b"--" + inner.encode() + b"\r\n" + _response_part(response))
            chunks.append(b"--" + inner.encode() + b"--\r\n")
        else:
            chunks.append(_response_part(answer))
    chunks.append(b"--" + boundary.encode() + b"--\r\n")
    return f"multipart/mixed;boundary={boundary}", b"".join(chunks)


def _response_part(response: SubResponse) -> bytes:
    head = [f"Content-Type: {HTTP_PART}", "Content-Transfer-Encoding: binary"]
    if response.content_id:
        head.append(f"Content-ID: {response.content_id}")
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}"]
    lines += [f"{_title(name)}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode() + response.body + b"\r\n"


# -- MIME ----------------------------------------------------------------------------------------------------------
def _parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """(headers, payload) of each part of a ``multipart/mixed`` body with the boundary ``content_type`` names.
    Lines may end in CRLF (as MIME says) or in LF alone (as some clients send)."""
    found = _BOUNDARY.search(content_type or "")
    if found is None:
        raise ValueError(f"no multipart boundary in {content_type!r}")
    delimiter = b"--" + found.group(1).strip().encode()
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        raise ValueError("the multipart body holds no part")
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):  # the closing delimiter
            break
        piece = piece[2:] if piece.startswith(b"\r\n") else piece[1:] if piece.startswith(b"\n") else piece
        piece = piece[:-2] if piece.endswith(b"\r\n") else piece[:-1] if piece.endswith(b"\n") else piece
        head, payload = _split_head(piece)
        parts.append((_headers(head), payload))
    return parts


def _message(payload: bytes) -> tuple[str, dict[str, str], bytes]:
    """(first line, headers, body) of an HTTP message carried in a part."""
    head, body = _split_head(payload.lstrip(b"\r\n"))
    lines = head.decode("utf-8", "replace").splitlines()
    if not lines:
        raise ValueError("an empty batch part")
    return lines[0].strip(), _headers("\n".join(lines[1:]).encode()), body


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Headers and the rest, at the first blank line (CRLF CRLF or LF LF)."""
    crlf, lf = data.find(b"\r\n\r\n"), data.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf <= lf):
        return data[:crlf], data[crlf + 4:]
    if lf != -1:
        return data[:lf], data[lf + 2:]
    return data, b""


def _headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


def _title(name: str) -> str:
    return "-".join(word[:1].upper() + word[1:] for word in name.split("-"))
