"""Odoo's refusals, both protocols, into the one hierarchy."""
import xmlrpc.client

import pytest
import requests

from connectors.errors import (AuthError, ConfigurationError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.odoo import errors


@pytest.mark.parametrize("code, text, expected", [
    (3, "Access Denied", AuthError),
    (4, "You are not allowed to access 'Journal Entry' (account.move) records.", ValidationFailed),
    (2, "Record does not exist or has been deleted.\n(Record: account.move(9,), User: 2)", RemoteNotFound),
    (2, "You cannot modify a posted entry of this journal.", ValidationFailed),
    (1, "Traceback (most recent call last):\npsycopg2.errors.SerializationFailure: could not serialize access "
        "due to concurrent update", RetryableError),
    (1, 'Traceback (most recent call last):\npsycopg2.OperationalError: FATAL:  database "x" does not exist',
     ConfigurationError),
    (1, "Traceback (most recent call last):\nValueError: Invalid field 'nope'", ValidationFailed),
])
def test_faults(code, text, expected):
    error = errors.from_fault(xmlrpc.client.Fault(code, text))
    assert type(error) is expected and error.platform_code == f"fault {code}"
    assert "Traceback" not in error.message


def answer(status, body=b"", headers=None):
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize("status, body, expected", [
    (401, b'{"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey"}', AuthError),
    (404, b'{"name": "odoo.exceptions.MissingError", "message": "Record does not exist"}', RemoteNotFound),
    (422, b'{"name": "odoo.exceptions.UserError", "message": "Only draft journal entries can be posted."}',
     ValidationFailed),
    (403, b'{"name": "odoo.exceptions.AccessError", "message": "not allowed"}', ValidationFailed),
    (502, b"<html>Bad Gateway</html>", RetryableError),
])
def test_json_2_answers(status, body, expected):
    assert type(errors.classify(answer(status, body))) is expected


def test_a_proxys_429_carries_its_retry_after():
    error = errors.classify(answer(429, b"Too Many Requests", {"Retry-After": "7"}))
    assert isinstance(error, RateLimitedError) and error.retry_after == 7
