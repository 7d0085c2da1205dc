"""One local[2] SparkSession for the whole test session (starting one costs ~10 s), or a loud skip where
Java or pyspark are missing (CI installs both; see .ci/run)."""

from __future__ import annotations

import shutil
import sys

import pytest

_state: dict = {}


def spark_or_skip():
    if "spark" not in _state:
        problem = None
        try:
            import pyspark  # noqa: F401
        except ImportError:
            problem = "pyspark is not installed (make install-dev installs the spark extra)"
        if problem is None and shutil.which("java") is None:
            problem = "no Java runtime on PATH (apt-get install openjdk-17-jre-headless)"
        if problem:
            msg = f"SPARK SAMENESS TEST NOT RUN: {problem}"
            print(f"\n{'!' * 80}\n{msg}\n{'!' * 80}", file=sys.stderr)
            _state["spark"] = None
            _state["why"] = msg
        else:
            from foodrisk.engine.spark import spark_session

            # two shuffle partitions and two cores: the test city is small, and more tasks only add overhead
            _state["spark"] = spark_session("local[2]", "foodrisk-tests", {"spark.sql.shuffle.partitions": "2"})
    if _state["spark"] is None:
        pytest.skip(_state["why"])
    return _state["spark"]
