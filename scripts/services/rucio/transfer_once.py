"""Drive pending replication rules one step, as Rucio's daemons would, but once and in-process:
judge-evaluator, then conveyor submitter -> poller -> finisher.

There is no FTS on this machine. Rucio's "mock" transfer tool only pretends to copy; here it is
replaced by a subclass that really copies file:// sources to file:// destinations before
reporting the job submitted, so after one run the files exist on the destination storage and
the rule's locks are OK. Needs the server-side RUCIO_CONFIG (the daemons use the database).
The daemons' own command lines wait ~10 s for partitioning; calling the functions avoids that.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import rucio.core.transfer as transfer_core
from rucio.transfertool.mock import MockTransfertool


class CopyingTransfertool(MockTransfertool):
    """The mock transfer tool, plus a real local copy of every submitted file."""

    def submit(self, transfers, job_params, timeout=None):
        for t in transfers:
            source = urlparse(t.source_url(t.src)).path
            target = urlparse(t.dest_url).path
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target + ".part")
            os.replace(target + ".part", target)
        return super().submit(transfers, job_params, timeout)


def main() -> None:
    transfer_core.TRANSFERTOOL_CLASSES_BY_NAME["mock"] = CopyingTransfertool
    from rucio.daemons.conveyor.finisher import finisher
    from rucio.daemons.conveyor.poller import poller
    from rucio.daemons.conveyor.submitter import submitter
    from rucio.daemons.judge.evaluator import re_evaluator

    re_evaluator(once=True)
    submitter(once=True, partition_wait_time=0, transfertools=["mock"], bulk=1000)
    poller(once=True, partition_wait_time=0, older_than=0, transfertool="mock")
    finisher(once=True, partition_wait_time=0)


if __name__ == "__main__":
    main()
