"""Intacct's refusals at their three levels (request, authentication, function) and a gateway's HTTP answers,
classified; and the XML parser refusing what an untrusted answer must not carry."""
import pytest
import requests

from connectors.errors import (AuthError, ConfigurationError, DuplicateError, RateLimitedError, RemoteNotFound,
                               RetryableError, ValidationFailed)
from connectors.intacct import errors, wire


def errormessage(errorno, description2, description="", correction=""):
    return wire.parse(wire.dump(wire.build("errormessage", {"error": {
        "errorno": errorno, "description": description, "description2": description2, "correction": correction}})))


@pytest.mark.parametrize("errorno, level, expected", [
    ("XL03000006", "authentication", AuthError),
    ("XL03000005", "control", ConfigurationError),
    ("XL03000010", "control", RateLimitedError),
    ("BL34000061", "create", DuplicateError),
    ("BL01001973", "create_invoice", ValidationFailed),
])
def test_each_level_and_number_is_classified(errorno, level, expected):
    error = errors.from_errors(errormessage(errorno, "Something Intacct says"), level)
    assert type(error) is expected and error.platform_code == errorno


def test_a_repeated_control_id_is_a_duplicate_of_its_own_kind():
    error = errors.from_errors(errormessage("XL03000009", "A request with control id k-1 was already processed."),
                               "control")
    assert isinstance(error, errors.RepeatedControlId) and isinstance(error, DuplicateError)


def test_the_message_joins_descriptions_and_correction_once_each():
    error = errors.from_errors(errormessage("BL01001973", "Invalid GL account '99999'", "Could not create record!",
                                            "Use an active GL account."), "create_invoice")
    assert error.message == "Could not create record!; Invalid GL account '99999'; Use an active GL account."
    assert error.hint


def test_not_found_is_a_gone_record_on_reads_and_changes_but_a_refusal_on_creates():
    assert isinstance(errors.from_errors(errormessage("BL01001973", "Invoice record 9 not found"), "update_invoice"),
                      RemoteNotFound)
    assert isinstance(errors.from_errors(errormessage("BL01001973", "Invalid customer: it does not exist"),
                                         "create_invoice"), ValidationFailed)


def test_an_authentication_failure_without_a_number_is_still_auth():
    assert isinstance(errors.from_errors(None, "authentication"), AuthError)


def answer(status, headers=None, body=b"<html>busy</html>"):
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update(headers or {})
    return response


def test_a_gateway_429_carries_its_retry_after_and_5xx_is_retryable():
    limited = errors.classify(answer(429, {"Retry-After": "120"}))
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 120
    assert isinstance(errors.classify(answer(503)), RetryableError)
    assert isinstance(errors.classify(answer(404)), ValidationFailed)


@pytest.mark.parametrize("hostile", [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><response>&b;</response>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><response>&x;</response>',
    b"not xml at all",
])
def test_entities_dtds_and_garbage_are_refused(hostile):
    with pytest.raises(ValueError):
        wire.parse(hostile)
