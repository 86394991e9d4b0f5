"""The tokenPassport signature against the worked example in NetSuite's help ("Creating the Token Password": the
same base string and key as SOAP's TokenPassportSignature; its published token password ends in this signature)."""
from connectors.netsuitesoap import tba


def test_the_signature_of_netsuites_worked_example():
    signature = tba.signature(
        "1234567", "71cc02b731f05895561ef0862d71553a3ac99498a947c3b7beaf4a1e4a29f7c4",
        "7278da58caf07f5c336301a601203d10a58e948efa280f0618e25fcee1ef2abd",
        "89e08d9767c5ac85b374415725567d05b54ecf0960ad2470894a52f741020d82",
        "060cd9ab3ffbbe1e3d3918e90165ffd37ab12acc76b4691046e2d29c7d7674c2", "6obMKq0tmY8ylVOdEkA1", 1439829974)
    assert signature == "FCghIZqXNetuZY8ILWOFH0ucdfzQOmAuL+q+kF21zPs="


def test_every_part_changes_the_signature():
    parts = ("acct", "ck", "cs", "tk", "ts", "nonce", 1)
    base = tba.signature(*parts)
    for index in range(len(parts)):
        changed = list(parts)
        changed[index] = changed[index] + 1 if isinstance(changed[index], int) else changed[index] + "x"
        assert tba.signature(*changed) != base
