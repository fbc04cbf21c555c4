from tests.channels.conftest import _clean_channel_redis, listing  # noqa: F401
from tests.storefront.conftest import (
    german_catalog,  # noqa: F401
    home,  # noqa: F401
)
