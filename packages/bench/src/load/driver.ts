/**
 * A load driver process: forked by the coordinator (DriverPool), it runs many simulated clients
 * (LoadClient) and answers the coordinator's commands over IPC. Spreading clients over processes keeps
 * one driver's event loop from being the thing measured; each driver reports its own event-loop
 * utilisation so a saturated driver is visible in the results.
 */
import { randomUUID } from 'node:crypto';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Message } from '@chat/protocol';
import { emptyTimeline, SLOW_DELIVERY_MS, type DriverCommand, type DriverCounters, type DriverMessage, type DriverStats, type Envelope, type SlotDeliveries, type TimelineEvent, type VerifyResult } from './driver-protocol';
import { LoadClient, type LoadClientSink, type ResendKind } from './load-client';
import type { LoadUser } from './population';
import { LogHistogram } from './log-histogram';
import { SourceAgents } from './source-address';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function zeroCounters(): DriverCounters {
  return {
    sent: 0,
    acked: 0,
    failed: 0,
    unsettled: 0,
    skipped: 0,
    ackedInWindow: 0,
    deliveredInWindow: 0,
    duplicateLive: 0,
    duplicateReleased: 0,
    resentAfterAck: 0,
    resentByServer: 0,
    resentStaleRequest: 0,
    resentOverlap: 0,
    syncedMessages: 0,
    connectErrors: 0,
  };
}

/** Content of a measured message: `<sent at, epoch ms> <sender node> <sender client> <n> <padding>`. */
function content(sentAt: number, node: string | undefined, client: number, n: number, bytes: number): string {
  const head = `${sentAt.toFixed(3)} ${node ?? '-'} ${client} ${n} `;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

function parseContent(text: string): { sentAt: number; node: string; client: number } | undefined {
  const [t, node, client] = text.split(' ', 3);
  const sentAt = Number(t);
  if (!Number.isFinite(sentAt) || node === undefined || client === undefined) return undefined;
  return { sentAt, node, client: Number(client) };
}

class Driver implements LoadClientSink {
  private url = '';
  private ack = { timeoutMs: 10_000, retries: 5 };
  private deliveredDebounceMs: number | undefined;
  private users: LoadUser[] = [];
  private clients: LoadClient[] = [];
  private readonly agents = new SourceAgents('websocket');
  private window = { start: Number.POSITIVE_INFINITY, end: Number.POSITIVE_INFINITY };
  private counters = zeroCounters();
  private histograms = this.emptyHistograms();
  private connectErrorCodes: Record<string, number> = {};
  private ackErrors: Record<string, number> = {};
  private perSecond: Record<TimelineEvent, Record<string, number>> = emptyTimeline();
  private slots: Record<string, SlotDeliveries> = {};
  private readonly ackedByRoom = new Map<string, number[]>();
  private recoveredCount = 0;
  private disconnectedCount = 0;
  private recoverySince = 0;
  private loopAtWindow: EventLoopUtilization = performance.eventLoopUtilization();
  private roundRobin = 0;
  private sendEnd = 0;

  private emptyHistograms() {
    return {
      ack: new LogHistogram(),
      delivery: new LogHistogram(),
      deliveryCrossNode: new LogHistogram(),
      deliverySameNode: new LogHistogram(),
      connect: new LogHistogram(),
      recovery: new LogHistogram(),
      lateLiveAge: new LogHistogram(),
    };
  }

  // LoadClientSink
  live(client: LoadClient, m: Message, firstCopy: boolean): void {
    if (!firstCopy) {
      this.counters.duplicateLive++;
      return;
    }
    const sent = parseContent(m.content);
    if (!sent || sent.client === client.user.index) return;
    if (sent.sentAt < this.window.start || sent.sentAt >= this.window.end) return;
    const ms = now() - sent.sentAt;
    this.counters.deliveredInWindow++;
    this.histograms.delivery.record(ms);
    const slot = (this.slots[Math.floor(sent.sentAt / 100)] ??= { count: 0, slow: 0, maxMs: 0 });
    slot.count++;
    if (ms > SLOW_DELIVERY_MS) slot.slow++;
    if (ms > slot.maxMs) slot.maxMs = ms;
    if (client.node !== undefined && sent.node !== '-') {
      (client.node === sent.node ? this.histograms.deliverySameNode : this.histograms.deliveryCrossNode).record(ms);
    }
  }
  resentAfterAck(_client: LoadClient, via: ResendKind, m: Message): void {
    this.counters.resentAfterAck++;
    if (via === 'sync-server') this.counters.resentByServer++;
    else if (via === 'sync-stale') this.counters.resentStaleRequest++;
    else if (via === 'sync-overlap') this.counters.resentOverlap++;
    else {
      const sent = parseContent(m.content);
      if (sent) this.histograms.lateLiveAge.record(now() - sent.sentAt);
    }
  }
  synced(_client: LoadClient, messages: number): void {
    this.counters.syncedMessages += messages;
  }
  duplicateReleased(): void {
    this.counters.duplicateReleased++;
  }
  connectError(_client: LoadClient, code: string): void {
    this.counters.connectErrors++;
    this.connectErrorCodes[code] = (this.connectErrorCodes[code] ?? 0) + 1;
    if (code === 'RATE_LIMITED') this.tick('refused');
    else if (code.startsWith('TRANSPORT')) this.tick('transport');
  }
  connected(client: LoadClient): void {
    this.histograms.connect.record(client.connectedAt! - client.startedAt);
  }
  connectionUp(): void {
    this.tick('connected');
  }
  recovered(client: LoadClient): void {
    this.tick('recovered');
    this.recoveredCount++;
    this.histograms.recovery.record(client.recoveredAt! - this.recoverySince);
  }
  disconnected(): void {
    this.disconnectedCount++;
  }

  private tick(event: TimelineEvent): void {
    const second = String(Math.floor(Date.now() / 1000));
    const counts = this.perSecond[event];
    counts[second] = (counts[second] ?? 0) + 1;
  }

  // Commands
  init(cmd: Extract<DriverCommand, { type: 'init' }>): number {
    this.url = cmd.url;
    this.users = cmd.clients;
    this.ack = { timeoutMs: cmd.ackTimeoutMs, retries: cmd.ackRetries };
    this.deliveredDebounceMs = cmd.deliveredDebounceMs;
    return this.users.length;
  }

  async connect(cmd: Extract<DriverCommand, { type: 'connect' }>): Promise<{ clients: number; synced: number }> {
    const deadline = now() + cmd.timeoutMs;
    const interval = cmd.perSecond > 0 ? 1000 / cmd.perSecond : 0;
    const begin = now();
    for (let i = this.clients.length; i < this.users.length; i++) {
      const user = this.users[i]!;
      const client = new LoadClient(user, this.url, this.agents.for(user.source), this.ack, this, this.deliveredDebounceMs);
      this.clients.push(client);
      client.start();
      if (interval > 0) await sleep(begin + (i + 1) * interval - now());
      else if (i % 50 === 49) await sleep(0); // let the event loop breathe between batches
      if (now() > deadline) break;
    }
    while (now() < deadline && this.clients.some((c) => !c.firstSynced)) await sleep(50);
    return { clients: this.clients.length, synced: this.clients.filter((c) => c.firstSynced).length };
  }

  setWindow(start: number, end: number): void {
    this.window = { start, end };
    const keep = { connect: this.histograms.connect, recovery: this.histograms.recovery };
    this.histograms = { ...this.emptyHistograms(), ...keep };
    this.slots = {};
    const { syncedMessages, connectErrors } = this.counters;
    this.counters = { ...zeroCounters(), syncedMessages, connectErrors };
    this.ackErrors = {};
    this.loopAtWindow = performance.eventLoopUtilization();
  }

  markRecovery(since: number): void {
    this.recoverySince = since;
    this.recoveredCount = 0;
    this.disconnectedCount = 0;
    this.histograms.recovery = new LogHistogram();
    this.perSecond = emptyTimeline();
    for (const c of this.clients) c.markRecovery(since);
  }

  /**
   * Open loop: sends are due at a fixed rate whatever the answers, spread round-robin over the clients.
   * A client with maxOutstanding sends in flight is passed over (counted as skipped), so an overloaded
   * system shows up as skipped sends and long acks rather than as an unbounded queue in the driver.
   */
  async send(cmd: Extract<DriverCommand, { type: 'send' }>): Promise<{ sent: number }> {
    const inFlight = new Set<Promise<void>>();
    let due = 0;
    let started = 0;
    await sleep(cmd.startAt - now());
    this.sendEnd = cmd.startAt + cmd.durationMs;
    while (now() < this.sendEnd && this.clients.length > 0) {
      due = Math.floor(((now() - cmd.startAt) * cmd.perSecond) / 1000);
      while (started < due) {
        started++;
        const client = this.nextClient(cmd.maxOutstanding);
        if (!client) {
          this.counters.skipped++;
          continue;
        }
        const p = this.sendOne(client, cmd.contentBytes).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(5);
    }
    const settled = Promise.all(inFlight).then(() => true);
    const timedOut = sleep(cmd.settleTimeoutMs).then(() => false);
    if (!(await Promise.race([settled, timedOut]))) this.counters.unsettled += inFlight.size;
    return { sent: started };
  }

  private nextClient(maxOutstanding: number): LoadClient | undefined {
    for (let tries = 0; tries < this.clients.length; tries++) {
      const client = this.clients[this.roundRobin++ % this.clients.length]!;
      if (client.outstanding < maxOutstanding) return client;
    }
    return undefined;
  }

  private async sendOne(client: LoadClient, bytes: number): Promise<void> {
    const sentAt = now();
    const inWindow = sentAt >= this.window.start && sentAt < this.window.end;
    client.outstanding++;
    this.counters.sent++;
    const n = client.sentCount++;
    try {
      const message = await client.chat.sendMessage({
        id: randomUUID(),
        roomId: client.user.roomId,
        content: content(sentAt, client.node, client.user.index, n, bytes),
      });
      this.counters.acked++;
      let seqs = this.ackedByRoom.get(message.roomId);
      if (!seqs) this.ackedByRoom.set(message.roomId, (seqs = []));
      seqs.push(message.seq);
      if (inWindow) {
        this.counters.ackedInWindow++;
        this.histograms.ack.record(now() - sentAt);
      }
    } catch (err) {
      this.counters.failed++;
      const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message : 'unknown');
      this.ackErrors[code] = (this.ackErrors[code] ?? 0) + 1;
    } finally {
      client.outstanding--;
    }
  }

  stats(): DriverStats {
    const nodes: Record<string, number> = {};
    let connected = 0;
    for (const c of this.clients) {
      if (!c.connected) continue;
      connected++;
      const node = c.node ?? 'unknown';
      nodes[node] = (nodes[node] ?? 0) + 1;
    }
    return {
      pid: process.pid,
      clients: this.clients.length,
      connected,
      synced: this.clients.filter((c) => c.firstSynced).length,
      recovered: this.recoveredCount,
      disconnected: this.disconnectedCount,
      nodes,
      counters: { ...this.counters },
      connectErrorCodes: { ...this.connectErrorCodes },
      unsyncedStates: countBy(this.clients.filter((c) => !c.firstSynced).map((c) => c.chat.connectionState)),
      perSecond: this.perSecond,
      slots: this.slots,
      ackErrors: { ...this.ackErrors },
      histograms: {
        ack: this.histograms.ack.toJSON(),
        delivery: this.histograms.delivery.toJSON(),
        deliveryCrossNode: this.histograms.deliveryCrossNode.toJSON(),
        deliverySameNode: this.histograms.deliverySameNode.toJSON(),
        connect: this.histograms.connect.toJSON(),
        recovery: this.histograms.recovery.toJSON(),
        lateLiveAge: this.histograms.lateLiveAge.toJSON(),
      },
      eventLoopUtilization: performance.eventLoopUtilization(this.loopAtWindow).utilization,
    };
  }

  acked(): Record<string, number[]> {
    return Object.fromEntries(this.ackedByRoom);
  }

  async verify(acked: Record<string, number[]>, settleMs: number): Promise<VerifyResult> {
    const missingPairs = () => {
      let n = 0;
      for (const c of this.clients) n += c.missing(acked[c.user.roomId] ?? []).length;
      return n;
    };
    const deadline = now() + settleMs;
    let missing = missingPairs();
    while (missing > 0 && now() < deadline) {
      await sleep(200);
      missing = missingPairs();
    }
    const missingBeforeFinalSync = missing;
    if (missing > 0) {
      // What a real client does when it notices a gap; here the gap is known from the acked set.
      const behind = this.clients.filter((c) => c.missing(acked[c.user.roomId] ?? []).length > 0);
      await Promise.allSettled(behind.map((c) => c.syncFrom(Math.min(...c.missing(acked[c.user.roomId] ?? [])) - 1)));
    }
    const examples: string[] = [];
    let lost = 0;
    for (const c of this.clients) {
      const gone = c.missing(acked[c.user.roomId] ?? []);
      lost += gone.length;
      if (gone.length > 0 && examples.length < 5) {
        examples.push(`client ${c.user.index} (${c.node ?? 'no node'}, ${c.connected ? 'connected' : 'disconnected'}) room ${c.user.roomId} misses seq ${gone.slice(0, 5).join(',')}`);
      }
    }
    return { missingBeforeFinalSync, lost, examples };
  }

  close(): void {
    for (const c of this.clients) c.close();
    this.agents.destroy();
  }

  async handle(cmd: DriverCommand): Promise<unknown> {
    switch (cmd.type) {
      case 'init':
        return this.init(cmd);
      case 'connect':
        return this.connect(cmd);
      case 'send':
        return this.send(cmd);
      case 'send-stop':
        this.sendEnd = 0;
        return undefined;
      case 'window':
        return this.setWindow(cmd.start, cmd.end);
      case 'mark-recovery':
        return this.markRecovery(cmd.since);
      case 'stats':
        return this.stats();
      case 'acked':
        return this.acked();
      case 'verify':
        return this.verify(cmd.acked, cmd.settleMs);
      case 'close':
        return this.close();
    }
  }
}

const driver = new Driver();
const reply = (message: DriverMessage) => process.send?.(message);

process.on('message', (raw: Envelope) => {
  driver.handle(raw).then(
    (result) => {
      reply({ type: 'reply', id: raw.id, result: result ?? null });
      if (raw.type === 'close') setTimeout(() => process.exit(0), 50);
    },
    (err: unknown) => reply({ type: 'error', id: raw.id, message: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
// The coordinator is gone (crashed, or killed): nobody will ever close us.
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready', pid: process.pid });

function countBy(keys: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}
