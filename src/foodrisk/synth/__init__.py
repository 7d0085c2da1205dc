"""Synthetic world generator (demo, tests, benchmarks). Pure Python: numpy + pyarrow, no Django.

    world = generate_world(20_000, years=5, seed=1, as_of=date(2025, 6, 30))
    write_import_files(world, "out/", dirty_rate=0.02, seed=1)
    world.write_snapshot("out/snapshot")
"""

from .world import KINDS, RECORD_KINDS, SNAPSHOT_TABLES, World, generate_world
from .writer import TEMPLATES, write_import_files

__all__ = ["KINDS", "RECORD_KINDS", "SNAPSHOT_TABLES", "TEMPLATES", "World", "generate_world", "write_import_files"]
