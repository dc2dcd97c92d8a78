/**
 * Relays on worker threads (issue #4: "worker threads across cores"): N relay workers, each with
 * its own event loop, sockets and crypto for the calls it is given, over its own slice of the
 * port ranges. The ng control and the gateway stay in this thread and place each new call on the
 * least-loaded worker; leg events come back as reports. Per packet nothing crosses threads.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EpcError } from '../../core/errors.js';
import type { PortRange } from '../rtp/port-allocator.js';
import { sharedCertificate, type LocalCertificate } from '../webrtc/certificate.js';
import type { RelayAllocator } from './relay-handle.js';
import type { CallAllocationSpec, RelayFactoryOptions } from './relay-factory.js';
import type { RelayCommand, RelayReport, RelayWorkerData } from './worker-protocol.js';
import { errorCodeOf, WorkerRelay, type RelayChannel } from './worker-relay.js';

export interface RelayWorkerPoolOptions extends RelayFactoryOptions {
  /** Worker threads (≥ 1); each gets an equal slice of both port ranges. */
  readonly workers: number;
}

/** The `i`-th of `count` equal slices of a port range (the last takes the remainder). */
export function sliceOfRange(range: PortRange, index: number, count: number): PortRange {
  const span = Math.floor((range.max - range.min + 1) / count);
  const min = range.min + index * span;
  return { min, max: index === count - 1 ? range.max : min + span - 1 };
}

/**
 * The worker runs relay-worker.ts: compiled next to this file, or, when this file is the
 * TypeScript source (tsx), the source through tsx registered inside the worker.
 */
function startWorker(data: RelayWorkerData): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(new URL('./relay-worker.js', import.meta.url), { workerData: data });
  const entry = new URL('./relay-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

class WorkerChannel implements RelayChannel {
  readonly #worker: Worker;
  readonly relays = new Map<number, WorkerRelay>();
  readonly #allocations = new Map<number, { resolve: (relay: WorkerRelay) => void; reject: (error: Error) => void }>();
  readonly #requests = new Map<number, (report: RelayReport) => void>();
  #nextRequest = 1;
  dead = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (report: RelayReport) => this.#onReport(report));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new EpcError('EPC_ERR_MEDIA', `relay worker exited (code ${code})`)));
    this.#updateRef();
  }

  /** Calls on this worker, allocated or being allocated. */
  get load(): number {
    return this.relays.size + this.#allocations.size;
  }

  allocate(id: number, spec: CallAllocationSpec): Promise<WorkerRelay> {
    return new Promise((resolve, reject) => {
      this.#allocations.set(id, { resolve, reject });
      this.#updateRef();
      this.post({ kind: 'allocate', id, spec });
    });
  }

  post(command: RelayCommand): void {
    if (!this.dead) this.#worker.postMessage(command);
  }

  request(make: (request: number) => RelayCommand): Promise<RelayReport> {
    if (this.dead) return Promise.resolve({ kind: 'done', request: 0 });
    const request = this.#nextRequest++;
    return new Promise((resolve) => {
      this.#requests.set(request, resolve);
      this.#updateRef();
      this.post(make(request));
    });
  }

  release(id: number): void {
    this.relays.delete(id);
    this.#updateRef();
  }

  /**
   * Like the sockets of an in-process relay, a worker keeps the process alive while it has calls
   * or answers to give, and not once it is idle (a gateway that is done exits).
   */
  #updateRef(): void {
    if (this.dead) return;
    if (this.load > 0 || this.#requests.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.#worker.terminate();
  }

  #onReport(report: RelayReport): void {
    this.#dispatch(report);
    this.#updateRef();
  }

  #dispatch(report: RelayReport): void {
    switch (report.kind) {
      case 'allocated': {
        const waiting = this.#allocations.get(report.id);
        this.#allocations.delete(report.id);
        const relay = new WorkerRelay(report.id, this, report.relay);
        if (waiting === undefined) {
          void relay.close();
          return;
        }
        this.relays.set(report.id, relay);
        waiting.resolve(relay);
        return;
      }
      case 'allocate-failed': {
        const waiting = this.#allocations.get(report.id);
        this.#allocations.delete(report.id);
        waiting?.reject(new EpcError(errorCodeOf(report.code), report.message));
        return;
      }
      case 'counters':
      case 'done': {
        const waiting = this.#requests.get(report.request);
        this.#requests.delete(report.request);
        waiting?.(report);
        return;
      }
      default:
        this.relays.get(report.id)?.onReport(report);
    }
  }

  /** A crashed worker takes its calls with it: each is reported failed so the call is released. */
  #fail(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const waiting of this.#allocations.values()) waiting.reject(error);
    this.#allocations.clear();
    for (const answer of this.#requests.values()) answer({ kind: 'done', request: 0 });
    this.#requests.clear();
    for (const relay of this.relays.values()) {
      relay.onReport({ kind: 'event', id: relay.id, event: 'failed', code: 'EPC_ERR_MEDIA', message: error.message });
    }
  }
}

export class RelayWorkerPool implements RelayAllocator {
  readonly #options: RelayWorkerPoolOptions;
  #channels: Promise<WorkerChannel[]> | undefined;
  #nextId = 1;
  #pending = 0;
  #live = 0;

  constructor(options: RelayWorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `relay workers must be an integer ≥ 1 (got ${options.workers})`);
    }
    this.#options = options;
  }

  /** Live calls across the workers. */
  get size(): number {
    return this.#live;
  }

  async certificate(): Promise<LocalCertificate> {
    return this.#options.certificate ?? sharedCertificate();
  }

  async allocate(spec: CallAllocationSpec): Promise<WorkerRelay> {
    if (this.#live + this.#pending >= (this.#options.maxCalls ?? Infinity)) {
      throw new EpcError('EPC_ERR_MEDIA', `call limit of ${this.#options.maxCalls} reached`);
    }
    this.#pending++;
    try {
      const channels = (await this.#start()).filter((channel) => !channel.dead);
      const channel = channels.reduce<WorkerChannel | undefined>((best, c) => (best === undefined || c.load < best.load ? c : best), undefined);
      if (channel === undefined) throw new EpcError('EPC_ERR_MEDIA', 'no relay worker is running');
      const relay = await channel.allocate(this.#nextId++, spec);
      this.#live++;
      const close = relay.close.bind(relay);
      let counted = true;
      relay.close = () => {
        if (counted) this.#live--;
        counted = false;
        return close();
      };
      return relay;
    } finally {
      this.#pending--;
    }
  }

  /** Releases every live call; the workers keep running for new ones. */
  async closeAll(): Promise<void> {
    if (this.#channels === undefined) return;
    const channels = await this.#channels;
    await Promise.all(channels.flatMap((channel) => [...channel.relays.values()].map((relay) => relay.close())));
  }

  /** Releases every call and stops the workers. */
  async terminate(): Promise<void> {
    await this.closeAll();
    const channels = this.#channels === undefined ? [] : await this.#channels;
    this.#channels = Promise.resolve([]);
    await Promise.all(channels.map((channel) => channel.terminate()));
  }

  #start(): Promise<WorkerChannel[]> {
    this.#channels ??= (async () => {
      const certificate = await this.certificate();
      const { workers, maxCalls: _limit, certificate: _certificate, ...factory } = this.#options;
      return Array.from({ length: workers }, (_, index) => new WorkerChannel(startWorker({
        factory: {
          ...factory,
          certificate,
          webrtcPorts: sliceOfRange(factory.webrtcPorts, index, workers),
          imsPorts: sliceOfRange(factory.imsPorts, index, workers),
        },
      })));
    })();
    return this.#channels;
  }
}
