/** Types of w2-balancer.mjs (the W2 load balancer of `npm run cluster` and the cluster fault tests). */
export interface W2BalancerOptions {
  /** Where the balancer and the backends listen; default 127.0.0.1. */
  readonly host?: string;
  /** The balancer's port; 0 (default) = any free one. */
  readonly port?: number;
  /** The nodes' W2 ports, in round-robin order. */
  readonly backends: readonly number[];
}

export interface W2Balancer {
  readonly port: number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

export function startW2Balancer(options: W2BalancerOptions): Promise<W2Balancer>;
