"""One lock for importing heavy libraries off the main thread.

The model (torch, sentence-transformers), the vector store (chromadb), the keyword index
(bm25s) and charts (matplotlib) all import numpy on first use. Background warm-up makes two of
them start in different threads at once, and numpy imported by two threads at the same moment
fails with "partially initialized module" (Python breaks the import-lock cycle by handing one
thread an unfinished module). Importing them one at a time costs a second at most, once.
"""

from __future__ import annotations

import threading

HEAVY_IMPORTS = threading.RLock()
