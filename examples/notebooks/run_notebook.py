"""Executes one notebook with nbclient and writes the executed copy; exit status 1 if a cell fails.

    python3 run_notebook.py <notebook.ipynb> <executed-copy.ipynb> [kernel-name]

Deno's Jupyter kernel may publish a cell's execute_result just after its "idle" status, and
nbclient stops collecting a cell's outputs at "idle": the value would be lost from the executed
copy (a front end such as JupyterLab shows it anyway). So after "idle" this client keeps reading
the cell's messages until none has come for GRACE_S seconds.
"""
import os
import queue
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError

GRACE_S = 1.0


class LateOutputClient(NotebookClient):
    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=GRACE_S)
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass


def main(src, dst, kernel="deno"):
    nb = nbformat.read(src, as_version=4)
    # The kernel starts in the notebook's folder, as in Jupyter: './lib/...' and 'mst-ts' resolve from there.
    client = LateOutputClient(nb, kernel_name=kernel, timeout=1800, resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}})
    started = time.time()
    ok = True
    try:
        client.execute()
    except CellExecutionError as e:
        ok = False
        print(str(e), file=sys.stderr)
    finally:
        nbformat.write(nb, dst)
    print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(src)} in {time.time() - started:.0f} s -> {dst}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
