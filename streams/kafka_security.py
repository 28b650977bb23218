"""Kafka security for every client loanwatch creates: TLS and SASL (PLAIN, SCRAM-SHA-256/512).

One place turns the ``LOANWATCH_KAFKA_*`` security settings into what each client library
wants: keyword arguments for kafka-python (:func:`kafka_python_kwargs`) and aiokafka
(:func:`aiokafka_kwargs`), and ``broker_credentials`` for the Faust app
(:func:`faust_credentials`). Called without settings they read the process-wide ones, so a
client built anywhere in the worker or the CLI uses the same security as the Faust app.

The password comes from ``LOANWATCH_KAFKA_SASL_PASSWORD`` or, read at each client start, from
the file named by ``LOANWATCH_KAFKA_SASL_PASSWORD_FILE`` (a mounted secret). It is held as a
:class:`~pydantic.SecretStr` and never appears in a ``repr``, a log line or an error message.

>>> from streams.settings import Settings
>>> kafka_python_kwargs(Settings())
{'security_protocol': 'PLAINTEXT'}
>>> sasl = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="lw",
...                 kafka_sasl_password="s3cret", kafka_sasl_mechanism="SCRAM-SHA-256")
>>> kwargs = aiokafka_kwargs(sasl)
>>> kwargs["security_protocol"], kwargs["sasl_mechanism"], kwargs["sasl_plain_username"]
('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'lw')
>>> "s3cret" in repr(KafkaSecurity.from_settings(sasl))
False
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from streams.settings import Settings, get_settings

SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})


class KafkaSecurityError(ValueError):
    """The security settings are incomplete (the message names variables, never values)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """Security of a Kafka connection, independent of the client library.

    >>> KafkaSecurity().uses_sasl, KafkaSecurity("SASL_SSL", username="u").uses_tls
    (False, True)
    """

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    password_file: Path | None = None
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    key_password: SecretStr | None = field(default=None, repr=False)
    check_hostname: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        """The security part of ``settings``.

        >>> KafkaSecurity.from_settings(Settings()).protocol
        'PLAINTEXT'
        """
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            password_file=settings.kafka_sasl_password_file,
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            key_password=settings.kafka_ssl_key_password,
            check_hostname=settings.kafka_ssl_check_hostname,
        )

    @property
    def uses_sasl(self) -> bool:
        """Whether the connection authenticates with SASL."""
        return self.protocol in SASL_PROTOCOLS

    @property
    def uses_tls(self) -> bool:
        """Whether the connection is encrypted with TLS."""
        return self.protocol in TLS_PROTOCOLS

    def sasl_password(self) -> str:
        """The SASL password, from the setting or else from the password file.

        >>> KafkaSecurity("SASL_PLAINTEXT", username="u", password=SecretStr("p")).sasl_password()
        'p'
        >>> KafkaSecurity("SASL_PLAINTEXT", username="u").sasl_password()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        streams.kafka_security.KafkaSecurityError: SASL needs LOANWATCH_KAFKA_SASL_PASSWORD or ...
        """
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            try:
                return self.password_file.read_text().rstrip("\r\n")
            except OSError as error:
                raise KafkaSecurityError(
                    f"cannot read LOANWATCH_KAFKA_SASL_PASSWORD_FILE {self.password_file}: "
                    f"{error.strerror}"
                ) from None
        raise KafkaSecurityError(
            "SASL needs LOANWATCH_KAFKA_SASL_PASSWORD or LOANWATCH_KAFKA_SASL_PASSWORD_FILE"
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (None without TLS): the CA file or the system's CAs, and
        the client certificate for mutual TLS when one is configured.

        >>> KafkaSecurity().ssl_context() is None
        True
        >>> KafkaSecurity("SSL").ssl_context().verify_mode == ssl.CERT_REQUIRED
        True
        """
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            purpose=ssl.Purpose.SERVER_AUTH,
            cafile=str(self.cafile) if self.cafile is not None else None,
        )
        context.check_hostname = self.check_hostname
        if self.certfile is not None:
            context.load_cert_chain(
                str(self.certfile),
                keyfile=str(self.keyfile) if self.keyfile is not None else None,
                password=(
                    self.key_password.get_secret_value() if self.key_password is not None else None
                ),
            )
        return context

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by kafka-python and aiokafka clients.

        >>> KafkaSecurity("SASL_PLAINTEXT", "PLAIN", "u", SecretStr("p")).client_kwargs()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'security_protocol': 'SASL_PLAINTEXT', 'sasl_mechanism': 'PLAIN',
         'sasl_plain_username': 'u', 'sasl_plain_password': 'p'}
        """
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_sasl:
            if not self.username:
                raise KafkaSecurityError("SASL needs LOANWATCH_KAFKA_SASL_USERNAME")
            kwargs.update(
                sasl_mechanism=self.mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.sasl_password(),
            )
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def faust_credentials(self) -> Any:
        """``broker_credentials`` for ``faust.App`` (None for PLAINTEXT).

        >>> KafkaSecurity().faust_credentials() is None
        True
        >>> KafkaSecurity("SASL_PLAINTEXT", username="u", password=SecretStr("p")
        ...               ).faust_credentials().mechanism.value
        'SCRAM-SHA-512'
        """
        from faust.auth import SASLCredentials, SSLCredentials

        if self.uses_sasl:
            if not self.username:
                raise KafkaSecurityError("SASL needs LOANWATCH_KAFKA_SASL_USERNAME")
            return SASLCredentials(
                username=self.username, password=self.sasl_password(),
                ssl_context=self.ssl_context(), mechanism=self.mechanism,
            )  # fmt: skip
        if self.uses_tls:
            return SSLCredentials(self.ssl_context())
        return None


def _security(settings: Settings | None) -> KafkaSecurity:
    return KafkaSecurity.from_settings(settings if settings is not None else get_settings())


def kafka_python_kwargs(settings: Settings | None = None) -> dict[str, Any]:
    """Security arguments for kafka-python's KafkaProducer, KafkaConsumer, KafkaAdminClient.

    >>> kafka_python_kwargs(Settings(kafka_security_protocol="SSL"))["security_protocol"]
    'SSL'
    """
    return _security(settings).client_kwargs()


def aiokafka_kwargs(settings: Settings | None = None) -> dict[str, Any]:
    """Security arguments for aiokafka's AIOKafkaProducer and AIOKafkaConsumer.

    >>> aiokafka_kwargs(Settings())
    {'security_protocol': 'PLAINTEXT'}
    """
    return _security(settings).client_kwargs()


def faust_credentials(settings: Settings | None = None) -> Any:
    """``broker_credentials`` for the Faust app, or None for a PLAINTEXT broker.

    >>> faust_credentials(Settings()) is None
    True
    """
    return _security(settings).faust_credentials()
