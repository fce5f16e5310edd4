import { parentPort } from 'node:worker_threads';
import { extractEvidence } from './evidence.js';

/** Runs the metadata parser off the gateway's event loop (see evidence-pool.ts). */
parentPort!.on('message', (msg: { id: number; bytes: Uint8Array }) => {
  try {
    const buf = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
    parentPort!.postMessage({ id: msg.id, evidence: extractEvidence(buf) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
