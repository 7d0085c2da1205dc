import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the scoring tests' fixtures (scoring_testkit), and the Chinese-page check of tests/loop (with its kits)
for folder in (HERE, HERE.parent / "scoring", HERE.parent / "supervision", HERE.parent / "loop"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
