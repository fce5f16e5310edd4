/**
 * Float32 input buffers handed from one onnxruntime run to the next instead of allocated per run.
 *
 * Why: a verdict used to allocate about 4.5 MB of model inputs (the face detector's 416 px input
 * alone is 2 MB, each 240 px face 0.7 MB, plain and mirrored). ArrayBuffers count as V8 external
 * memory, and at 15+ verdicts a second per detector that volume alone set off a full garbage
 * collection about every second (the bench's profile: V8's collector 8 % of a detector's main
 * thread, and a quarter of its CPU in V8's helper threads).
 *
 * A buffer taken holds whatever its last user wrote: every user overwrites every element. Give it
 * back only when no run can still read it (after `session.run` has resolved).
 */
export class Float32Scratch {
  private readonly free = new Map<number, Float32Array[]>();
  private keptBytes = 0;

  /** At most `perLength` spare buffers of one length and `maxBytes` in all are kept. */
  constructor(
    private readonly perLength = 2,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  take(length: number): Float32Array {
    const spare = this.free.get(length)?.pop();
    if (!spare) return new Float32Array(length);
    this.keptBytes -= spare.byteLength;
    return spare;
  }

  give(...buffers: Float32Array[]): void {
    for (const b of buffers) {
      // Views into a larger buffer (subarray) are not ours to keep.
      if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength) continue;
      let list = this.free.get(b.length);
      if (!list) this.free.set(b.length, (list = []));
      if (list.length >= this.perLength || this.keptBytes + b.byteLength > this.maxBytes || list.includes(b)) continue;
      list.push(b);
      this.keptBytes += b.byteLength;
    }
  }

  /** Bytes held as spares (for tests). */
  get spareBytes(): number {
    return this.keptBytes;
  }
}

/** The process's one pool: every model's inputs (face detector, landmarks, detector, classifier). */
export const float32Scratch = new Float32Scratch();
