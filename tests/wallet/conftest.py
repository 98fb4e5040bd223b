from tests.loyalty import helpers  # noqa: F401  (registers the hypothesis profiles)
