"""Where things live by default; every path can be overridden (resources, CLI flags, env vars)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_DIR = Path(os.environ.get("TRIALS_WAREHOUSE_DIR", PROJECT_ROOT / "warehouse"))
DEFAULT_DB = Path(os.environ.get("TRIALS_DB", WAREHOUSE_DIR / "trials.duckdb"))
DEFAULT_LANDING = Path(os.environ.get("TRIALS_LANDING", WAREHOUSE_DIR / "landing"))
DEFAULT_STAGING = Path(os.environ.get("TRIALS_STAGING", WAREHOUSE_DIR / "staging"))
DEFAULT_REPORTS = Path(os.environ.get("TRIALS_REPORTS_DIR", WAREHOUSE_DIR / "reports"))
DDL_PATH = PROJECT_ROOT / "sql" / "ddl" / "warehouse.sql"
VIEWS_PATH = PROJECT_ROOT / "sql" / "ddl" / "views.sql"
