"""Kafka security settings become the same client arguments for every library."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import AuthProtocol

from streams.kafka_security import (
    KafkaSecurity,
    KafkaSecurityError,
    aiokafka_kwargs,
    faust_credentials,
    kafka_python_kwargs,
)
from streams.settings import Settings

# A throwaway self-signed CA certificate (public part only) for loading a CA file.
CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIDGzCCAgOgAwIBAgIUXcR3pxxUsNqvfkAk8Jt9U0DGcpMwDQYJKoZIhvcNAQEL
BQAwHDEaMBgGA1UEAwwRbG9hbndhdGNoLXRlc3QtY2EwIBcNMjYxMTIxMjM0ODQx
WhgPMjEyNjEwMjgyMzQ4NDFaMBwxGjAYBgNVBAMMEWxvYW53YXRjaC10ZXN0LWNh
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8GRo/BK8WhoxME/6bMpt
qZVdV2kgRUM2u0V1By5RdLEYrqMUqT23P8DV4dStWz1lmk2/vxUyH4EmJ9jB2Jc2
rN/LU7kAXB1GbC9GgRuK8LLMHm1sBI4Sw1OJrMvhCmwY3bkHMcDYF6szJwfKX9rV
Ze4pHv5Q5TgUH/n+ag/9fifGYiiu+LRH+/8USn/XTCI+rKsqikbxJnHXdg7NtEF8
is/8WADmtWW50xr0SZ84NXFnydg/0Mg0USWEZiAsxPAFrshYzikn7i7m0j7krQd1
RHHQaS71bTZdLwlIofm6thhDMKvbMnWvp/16KrF2raFebGK3A0anlCSF/XYhVEkP
hQIDAQABo1MwUTAdBgNVHQ4EFgQU1hwD6j6ygGoXtqCKPp6sqiosrAMwHwYDVR0j
BBgwFoAU1hwD6j6ygGoXtqCKPp6sqiosrAMwDwYDVR0TAQH/BAUwAwEB/zANBgkq
hkiG9w0BAQsFAAOCAQEAeQr5dm81S58OPUaJ6aeQmgyQ0z3/8LZOV261Is9gKSz1
2bzZM9GoSKqO9nbjMwPZZwG/RvgRq6hTRGGB2s0Askswu/DFCz9IJ6jHnwqNUNyc
aj9XbdB5tX4kOFW1CzLl184OJMfu4S/Fie99/9ax76wkQuNO3MxMrkyye15x0CCE
2IHEp6W4pjHSN8zzYKGIAJDaWyCIv5L2XM1lI4vFPQlTSl8Js5k0fM61iRwX1Z5r
C9SetIt3h3YU2N6VhQRZaPYtZYPKQfWtoTCDcZl7E0yHkWi/4zGh+bMRPGw1k2l/
Yn81RB3OMhDVti47uaDLst07xd91Ah9TQsxwQkQRFQ==
-----END CERTIFICATE-----
"""


@pytest.fixture
def cafile(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text(CA_PEM)
    return path


def test_plaintext_adds_nothing_but_the_protocol() -> None:
    assert kafka_python_kwargs(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert aiokafka_kwargs(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None


def test_tls_trusts_exactly_the_configured_ca(cafile: Path) -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=cafile)
    kwargs = kafka_python_kwargs(settings)
    context = kwargs["ssl_context"]
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 1
    credentials = faust_credentials(settings)
    assert isinstance(credentials, SSLCredentials)
    assert credentials.protocol == AuthProtocol.SSL


def test_hostname_check_can_be_turned_off(cafile: Path) -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=cafile,
                        kafka_ssl_check_hostname=False)  # fmt: skip
    assert not kafka_python_kwargs(settings)["ssl_context"].check_hostname


def test_a_missing_ca_file_fails_at_client_creation(tmp_path: Path) -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "none.pem")
    with pytest.raises(FileNotFoundError):
        kafka_python_kwargs(settings)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_gives_every_library_the_same_credentials(
    cafile: Path, mechanism: str
) -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="svc-loanwatch", kafka_sasl_password="pw", kafka_ssl_cafile=cafile,
    )  # fmt: skip
    for kwargs in (kafka_python_kwargs(settings), aiokafka_kwargs(settings)):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == mechanism
        assert kwargs["sasl_plain_username"] == "svc-loanwatch"
        assert kwargs["sasl_plain_password"] == "pw"
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    credentials = faust_credentials(settings)
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_SSL
    assert credentials.mechanism.value == mechanism
    assert (credentials.username, credentials.password) == ("svc-loanwatch", "pw")


def test_the_password_file_is_read_without_its_line_end(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    settings = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u",
                        kafka_sasl_password_file=secret)  # fmt: skip
    assert kafka_python_kwargs(settings)["sasl_plain_password"] == "from-a-file"


def test_incomplete_sasl_settings_name_the_variable(tmp_path: Path) -> None:
    no_user = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_password="pw")
    with pytest.raises(KafkaSecurityError, match="LOANWATCH_KAFKA_SASL_USERNAME"):
        kafka_python_kwargs(no_user)
    with pytest.raises(KafkaSecurityError, match="LOANWATCH_KAFKA_SASL_USERNAME"):
        faust_credentials(no_user)
    no_password = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u")
    with pytest.raises(KafkaSecurityError, match="LOANWATCH_KAFKA_SASL_PASSWORD"):
        aiokafka_kwargs(no_password)
    unreadable = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u",
                          kafka_sasl_password_file=tmp_path / "missing")  # fmt: skip
    with pytest.raises(KafkaSecurityError, match="PASSWORD_FILE"):
        aiokafka_kwargs(unreadable)


def test_secrets_from_the_environment_never_show_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANWATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("LOANWATCH_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("LOANWATCH_KAFKA_SASL_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("LOANWATCH_KAFKA_SSL_KEY_PASSWORD", "key-secret")
    settings = Settings()
    security = KafkaSecurity.from_settings(settings)
    assert security.sasl_password() == "hunter2-secret"
    for text in (repr(settings), str(settings), repr(security), repr(faust_credentials(settings))):
        assert "hunter2-secret" not in text and "key-secret" not in text


def test_an_unknown_protocol_or_mechanism_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(kafka_security_protocol="SASL_TLS")
    with pytest.raises(ValueError):
        Settings(kafka_sasl_mechanism="SCRAM-SHA-1")
