"""The service-layer toolkit: what every service's use cases are written with.

Plain Python, like the domain: nothing here imports nameko or psycopg2, so a
service layer built on it runs as well against ``InMemoryUnitOfWork`` in a
unit test as against PostgreSQL in production.

- ``unit_of_work``: the ``UnitOfWork`` a use case takes, and who acts (``Author``);
- ``commands``: the fields and the base every request shares;
- ``sweeps``: a command run by the service on every aggregate found due;
- ``ratelimit``: fixed-window limits counted in the service's own table;
- ``memory``: the in-memory unit of work, for tests;
- ``postgres``: the PostgreSQL unit of work (infrastructure: import it by name).
"""

from shared.application.commands import ID, LONG_TEXT, NAME, Command
from shared.application.sweeps import Sweep, SweepResult
from shared.application.unit_of_work import Author, Authored, Reader, UnitOfWork, system_actor

__all__ = [
    "ID",
    "LONG_TEXT",
    "NAME",
    "Author",
    "Authored",
    "Command",
    "Reader",
    "Sweep",
    "SweepResult",
    "UnitOfWork",
    "system_actor",
]
