/**
 * The fuzz child: runs one target on one input per message and answers with what happened. The
 * parent kills it when an input overruns its time or memory budget and starts a new one.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { TARGETS, tensorsAlive } from './targets';

interface Request {
  id: number;
  target: string;
  bytes: string;
}

interface Init {
  init: { dicomSeries: string[]; bundleWeights: string | null };
}

const context = { dicomSeries: [] as Uint8Array[], bundleWeights: null as Uint8Array | null };
const ready = tf.setBackend('cpu');

const reply = (msg: object): void => {
  process.send!({ ...msg, rss: process.memoryUsage().rss });
};

process.on('message', async (msg: Request | Init) => {
  if ('init' in msg) {
    context.dicomSeries = msg.init.dicomSeries.map((p) => new Uint8Array(fs.readFileSync(p)));
    context.bundleWeights = msg.init.bundleWeights ? new Uint8Array(fs.readFileSync(msg.init.bundleWeights)) : null;
    await ready;
    tf.env().set('PROD', true);
    reply({ ready: true });
    return;
  }
  const bytes = new Uint8Array(Buffer.from(msg.bytes, 'base64'));
  const before = tensorsAlive();
  try {
    const summary = await TARGETS[msg.target].run(bytes, context);
    reply({ id: msg.id, status: 'accepted', summary, leaked: tensorsAlive() - before });
  } catch (e) {
    const err = e as { constructor?: { name?: string }; message?: unknown; stack?: unknown };
    const name = e instanceof Error ? (err.constructor?.name ?? 'Error') : `thrown ${typeof e}`;
    const stack = typeof err?.stack === 'string' ? err.stack.split('\n').slice(0, 6).join('\n') : '';
    reply({ id: msg.id, status: 'rejected', name, message: String(err?.message ?? e).slice(0, 4000), stack, leaked: tensorsAlive() - before });
  }
});
