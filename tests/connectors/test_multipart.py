"""OData's multipart batch format (``connectors.multipart``): what a client encodes a service decodes, and back,
including change sets, bodies, Content-IDs and bodies written with bare LF line ends."""
import pytest

from connectors import multipart
from connectors.multipart import SubRequest, SubResponse


def test_requests_and_change_sets_survive_the_round_trip():
    get = SubRequest("GET", "Invoices?$filter=NumAtCard%20eq%20'A-1'", content_id="1")
    post = SubRequest("POST", "Invoices", b'{"CardCode":"C1","DocTotal":12.50}', {"content-type": "application/json"},
                      "2")
    patch = SubRequest("PATCH", "/b1s/v2/Invoices(7)", b'{"Comments":"x"}', content_id="3")
    content_type, body = multipart.encode_requests([get, [post, patch]])
    assert content_type.startswith("multipart/mixed;boundary=batch_")
    groups = multipart.decode_requests(content_type, body)
    assert groups[0] == get
    assert [(r.method, r.url, r.body, r.content_id) for r in groups[1]] == [
        ("POST", "Invoices", post.body, "2"), ("PATCH", "/b1s/v2/Invoices(7)", patch.body, "3")]
    assert groups[1][1].headers["content-type"] == "application/json"  # a body is JSON unless said otherwise
    assert groups[1][1].path_and_params("/b1s/v2") == ("/b1s/v2/Invoices(7)", {})
    assert get.path_and_params("/b1s/v2/") == ("/b1s/v2/Invoices", {"$filter": "NumAtCard eq 'A-1'"})


def test_responses_survive_the_round_trip_and_a_failed_change_set_is_one_response():
    created = SubResponse(201, b'{"DocEntry":5}', {"content-type": "application/json"}, "1")
    refused = SubResponse(400, b'{"error":{"code":-10,"message":{"lang":"en-us","value":"Invalid BP code"}}}', {},
                          "2")
    content_type, body = multipart.encode_responses([[created], refused, SubResponse(204)])
    answers = multipart.decode_responses(content_type, body)
    assert answers[0] == [created] and answers[1] == refused and answers[2].status == 204 and answers[2].body == b""
    assert not refused.ok and created.ok


def test_a_body_with_bare_line_feeds_is_read_too():
    body = (b"--b1\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n"
            b"POST Items HTTP/1.1\nContent-Type: application/json\n\n{\"ItemCode\":\"A\"}\n--b1--\n")
    [request] = multipart.decode_requests("multipart/mixed; boundary=\"b1\"", body)
    assert (request.method, request.url, request.body) == ("POST", "Items", b'{"ItemCode":"A"}')


@pytest.mark.parametrize("content_type, body, problem", [
    ("application/json", b"{}", "no multipart boundary"),
    ("multipart/mixed;boundary=x", b"nothing", "holds no part"),
    ("multipart/mixed;boundary=x", b"--x\r\nContent-Type: multipart/mixed;boundary=y\r\n\r\n--y\r\n"
     b"Content-Type: application/http\r\n\r\nGET Items HTTP/1.1\r\n\r\n\r\n--y--\r\n--x--\r\n", "cannot contain a GET"),
    ("multipart/mixed;boundary=x", b"--x\r\nContent-Type: application/http\r\n\r\n200 what\r\n--x--\r\n",
     "not an HTTP request"),
])
def test_a_malformed_batch_says_what_is_wrong(content_type, body, problem):
    with pytest.raises(ValueError, match=problem):
        multipart.decode_requests(content_type, body)
