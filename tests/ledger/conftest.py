from tests.stripe_fixtures import stripe_sandbox, stripe_sandbox_server  # noqa: F401
