/**
 * Node-to-node requests with an answer, and the choice of the one node that does a cluster-wide job (the
 * send writer: features/messages/send-writer.ts). The cluster bus (`ClusterBus`) tells every node and
 * expects nothing back; this asks one node and waits for its answer.
 *
 * Implementations: `LocalNodeRelay` (embedded mode: this node is the only one, so always the writer) and
 * `RedisNodeRelay` (cluster mode: a Redis lease names the writer; requests and answers travel on a Pub/Sub
 * channel per node). Both pass test/node-relay.contract.test.ts.
 */
export interface NodeRelay {
  /** This node's id. */
  readonly nodeId: string;
  /** The node that holds the writer's role now, as this node last saw it (at most one lease period old). */
  writer(): string;
  /**
   * Asks `nodeId` and resolves with its handler's answer. Rejects with `RelayTimeout` when no answer comes
   * within `timeoutMs` (the node is dead, cut off, or has no handler): the request may or may not have run.
   */
  request(nodeId: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  /** Answers this node's requests; a handler that throws is answered with `{ relayError: message }`. */
  serve(handler: (payload: unknown) => Promise<unknown>): void;
  /** Gives the writer's role up (if held) and stops answering; pending requests reject. */
  close(): Promise<void>;
}

export class RelayTimeout extends Error {
  constructor(nodeId: string, timeoutMs: number) {
    super(`no answer from node ${nodeId} within ${timeoutMs} ms`);
    this.name = 'RelayTimeout';
  }
}

/** Embedded mode: one node, always the writer; a request to itself runs its own handler. */
export class LocalNodeRelay implements NodeRelay {
  private handler: ((payload: unknown) => Promise<unknown>) | undefined;
  private closed = false;

  constructor(readonly nodeId: string) {}

  writer(): string {
    return this.nodeId;
  }

  async request(nodeId: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (nodeId !== this.nodeId || !this.handler || this.closed) throw new RelayTimeout(nodeId, timeoutMs);
    // Through JSON, as on the wire: the caller gets a copy, never the handler's own objects.
    return JSON.parse(JSON.stringify(await this.handler(JSON.parse(JSON.stringify(payload)) as unknown).catch((err: unknown) => ({ relayError: String(err) })))) as unknown;
  }

  serve(handler: (payload: unknown) => Promise<unknown>): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
