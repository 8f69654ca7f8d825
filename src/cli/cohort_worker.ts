// Entry of a `mst-ts predict --manifest --workers N` worker thread (built to
// dist/cli/cohort_worker.js): its own tfjs engine and backend, the model loaded once, then one
// case per message: read, predict, explain, write; the reply carries the record or the error.
import { parentPort } from 'node:worker_threads';
import { processCase, type CaseContext } from './cohort_case';
import { loadVolumePredictor, type VolumePredictor } from './cohort_predictor';
import { useBackend, type CohortWorkerCase, type CohortWorkerInit, type CohortWorkerReply } from './cohort_runner';

if (!parentPort) throw new Error('cohort_worker: must run as a worker thread (started by mst-ts predict --workers)');
const port = parentPort;
let predictor: VolumePredictor | null = null;
let ctx: CaseContext | null = null;

function reply(message: CohortWorkerReply): void {
  port.postMessage(message);
}

async function handle(m: CohortWorkerInit | CohortWorkerCase): Promise<CohortWorkerReply> {
  if (m.type === 'init') {
    await useBackend(m.backend);
    predictor = await loadVolumePredictor(m.spec);
    ctx = m.ctx;
    return { type: 'ready' };
  }
  if (!predictor || !ctx) throw new Error('cohort_worker: a case before init');
  try {
    return { type: 'done', record: await processCase(predictor, m.case, m.stem, ctx) };
  } catch (e) {
    return { type: 'failed', message: (e as Error).message };
  }
}

port.on('message', (m: CohortWorkerInit | CohortWorkerCase) => {
  handle(m).then(reply, (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
});
