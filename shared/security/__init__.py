"""Who may do what: keys, identity assertions, the roles table and event signatures.

Nothing here knows nameko or RabbitMQ: the runtime verifies with it at every
entrypoint, and the gateway signs with it.
"""
