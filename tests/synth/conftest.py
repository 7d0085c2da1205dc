from datetime import date

import pytest

from foodrisk.synth import generate_world, write_import_files

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="session")
def world():
    return generate_world(4000, years=5, seed=11, as_of=AS_OF)


@pytest.fixture(scope="session")
def out_dir(world, tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    manifest = write_import_files(world, d, dirty_rate=0.03, seed=11)
    return d, manifest
