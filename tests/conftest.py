from __future__ import annotations

import sys
from pathlib import Path

# tests/ helpers (simple_source, fixture writers) import as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))
