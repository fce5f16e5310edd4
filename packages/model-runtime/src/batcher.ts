import type { RgbImage } from '@dfd/imaging';
import type { ImageClassifierModel, Prediction } from './classifier-model.js';

interface Pending {
  image: RgbImage;
  resolve: (p: Prediction) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects concurrent single-image requests into batches (up to `maxBatch`, waiting at most
 * `maxWaitMs` for company), which is where onnxruntime gets most of its CPU throughput.
 * One batch runs at a time so batches do not fight over the same cores.
 */
export class MicroBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly model: ImageClassifierModel,
    private readonly maxBatch = 8,
    private readonly maxWaitMs = 4,
  ) {}

  predict(image: RgbImage): Promise<Prediction> {
    return new Promise((resolve, reject) => {
      this.queue.push({ image, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.maxBatch) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.maxWaitMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const preds = await this.model.predict(batch.map((p) => p.image));
      batch.forEach((p, i) => p.resolve(preds[i]!));
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
