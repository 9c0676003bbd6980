"""Moving the test database between migrations, for tests of a migration's data step."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate to `targets` ([(app, migration name)]) and return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest(app_label: str) -> tuple[str, str]:
    """(app, name of its newest migration)."""
    graph = MigrationExecutor(connection).loader.graph
    return max((app, name) for app, name in graph.leaf_nodes() if app == app_label)
