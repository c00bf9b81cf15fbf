"""Where distributed work runs: in this process (the default), a local Dask cluster, or a scheduler.

``--scheduler tcp://HOST:PORT`` (or the DASK_SCHEDULER_ADDRESS environment variable) sends the work
to an existing dask.distributed cluster; ``--workers N`` starts a LocalCluster of N worker processes
for the run; neither runs everything in this process with nothing to set up.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Optional

from .errors import CostlabError

ENV = "DASK_SCHEDULER_ADDRESS"


def scheduler_address(given: Optional[str] = None) -> Optional[str]:
    """The scheduler named on the command line, else the environment's, else None (in-process)."""
    address = given or os.environ.get(ENV) or None
    return address.strip() if address else None


@contextlib.contextmanager
def dask_client(address: Optional[str] = None, workers: Optional[int] = None, processes: bool = True,
                timeout: str = "10s") -> Iterator[Optional[Any]]:
    """A dask.distributed Client for ``address`` or for a LocalCluster of ``workers``; None for in-process.

    Closed (and the local cluster shut down) when the block ends.
    """
    if address is None and not workers:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CostlabError("distributed runs need dask.distributed (pip install 'costlab[scale]')") from None
    if address is not None:
        try:
            client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as e:
            raise CostlabError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(e).split()) or type(e).__name__}") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0")
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
