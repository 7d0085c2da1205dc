"""spark-submit entry point: ``spark-submit --master … foodrisk/engine/spark_main.py JOB_URI``.

A file of its own with an absolute import, because spark-submit runs the file as a script (no package, so
the relative imports of spark.py would fail). The cluster's Python needs ``foodrisk[spark]`` installed, or
the wheel shipped with ``--py-files`` (docs/deployment.md)."""

import sys

from foodrisk.engine.spark import main

if __name__ == "__main__":
    sys.exit(main())
