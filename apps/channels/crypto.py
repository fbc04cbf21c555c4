"""Channel secrets use the project's key ring, now in ``apps.core.crypto`` (guest data uses it too)."""

from apps.core.crypto import (  # noqa: F401 - re-exported for existing callers
    PREFIX,
    KeyRing,
    SecretDecryptError,
    decrypt,
    encrypt,
    generate_key,
    key_id_of,
    keyring,
    parse_keys,
)
