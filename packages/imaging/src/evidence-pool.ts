import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '@dfd/config';
import type { MetadataEvidence } from './evidence.js';

export interface EvidenceBudget {
  /** Worker threads parsing metadata at once. */
  threads: number;
  /** Wall-clock time one file may take in a worker before it is stopped. */
  timeMs: number;
  /** Old-generation heap of each worker (MB); a file that needs more is stopped. */
  heapMb: number;
  /** Files waiting for a worker; beyond it metadata is skipped at once. */
  maxQueue: number;
}

export const defaultEvidenceBudget: EvidenceBudget = { threads: 2, timeMs: 1_500, heapMb: 96, maxQueue: 64 };

export type EvidenceOutcome = { evidence: MetadataEvidence } | { skipped: string };

interface Task {
  id: number;
  bytes: Buffer;
  deadline: number;
  resolve: (o: EvidenceOutcome) => void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  timer: NodeJS.Timeout | null;
}

/**
 * A small pool of worker threads for the metadata parser (ExifReader is synchronous and can take
 * seconds on hostile XMP or EXIF). Each file gets `timeMs` and a heap cap; a worker that runs over
 * either is terminated and replaced, and the caller gets `skipped` instead of evidence. The
 * workers are unref'd while idle: they never keep a process alive.
 */
export class EvidencePool {
  private slots: Slot[] = [];
  private queue: Task[] = [];
  private nextId = 1;

  constructor(private readonly budget: EvidenceBudget = defaultEvidenceBudget) {}

  private spawn(): Slot {
    const worker = startModuleWorker('./evidence-worker', import.meta.url, {
      resourceLimits: { maxOldGenerationSizeMb: this.budget.heapMb, maxYoungGenerationSizeMb: 16 },
    });
    const slot: Slot = { worker, task: null, timer: null };
    worker.on('message', (msg: { id: number; evidence?: MetadataEvidence; error?: string }) => {
      const task = slot.task;
      if (!task || task.id !== msg.id) return;
      this.finish(slot, msg.evidence ? { evidence: msg.evidence } : { skipped: 'the metadata could not be parsed' });
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const why = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `parsing it needed more than ${this.budget.heapMb} MB` : 'the metadata parser failed';
      this.replace(slot, why);
    });
    worker.on('exit', () => this.replace(slot, 'the metadata parser stopped'));
    // After the listeners (adding a 'message' listener refs the worker's port again). A busy
    // worker is ref'd while it has a task, so an awaited parse keeps the process alive.
    worker.unref();
    return slot;
  }

  private finish(slot: Slot, outcome: EvidenceOutcome): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const task = slot.task;
    slot.task = null;
    slot.worker.unref();
    task?.resolve(outcome);
    this.pump();
  }

  /** Drops a dead or stopped worker, answers its task and starts a fresh one lazily. */
  private replace(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
    const task = slot.task;
    slot.task = null;
    void slot.worker.terminate().catch(() => undefined);
    task?.resolve({ skipped: `metadata was not read: ${why}` });
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === null);
      if (!slot && this.slots.length < this.budget.threads) {
        slot = this.spawn();
        this.slots.push(slot);
      }
      if (!slot) return;
      const task = this.queue.shift()!;
      if (Date.now() > task.deadline) {
        task.resolve({ skipped: 'metadata was not read: the server was busy' });
        continue;
      }
      slot.task = task;
      slot.worker.ref();
      slot.timer = setTimeout(() => this.replace(slot!, `parsing it took longer than ${this.budget.timeMs} ms`), this.budget.timeMs);
      slot.timer.unref();
      // A copy: the upload's buffer may be a slice of a shared pool.
      const copy = new Uint8Array(task.bytes);
      slot.worker.postMessage({ id: task.id, bytes: copy }, [copy.buffer]);
    }
  }

  /** Parses the metadata of `bytes` within the budget. Never throws. */
  extract(bytes: Buffer): Promise<EvidenceOutcome> {
    if (this.queue.length >= this.budget.maxQueue) return Promise.resolve({ skipped: 'metadata was not read: the server was busy' });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, bytes, deadline: Date.now() + this.budget.timeMs * 3, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }
}
