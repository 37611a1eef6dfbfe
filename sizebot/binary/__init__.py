"""One Go binary, and two: the ELF, Mach-O and PE readers, the pclntab and build info, where every byte goes
(analyze), and what changed between two binaries (diff)."""

import os

# numpy, imported by the analysis, starts a BLAS thread pool on import unless told otherwise. The
# analysis never uses BLAS, and a second thread in the process would break what forking its worker and
# holding SIGINT/SIGTERM rely on (one thread: a signal sent to the process wakes the one that waits).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
