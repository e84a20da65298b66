import { ChatSocket, Outbox, type HttpApi, type Session } from '@chat/client';
import type { Message, RoomSummary } from '@chat/protocol';
import type { QueryClient } from '@tanstack/react-query';
import { withMessage, withUpdatedMessage, type HistoryData } from './history-cache';
import { LocalOutboxStorage } from './outbox-storage';
import { OutboxView } from './outbox-view';
import { queryKeys } from './queries';
import { ReadMarker } from './read-marker';
import { RecentMessages } from './recent-messages';
import { withIncomingMessage, withoutRoom, withRoomRead } from './room-list-cache';
import { TypingNotifier } from './typing-notifier';
import { TypingTracker } from './typing-tracker';

export interface LiveSessionOptions {
  url: string;
  api: HttpApi;
  session: Session;
  userId: string;
  queryClient: QueryClient;
  storage: Storage;
}

/**
 * Everything that lives as long as a signed-in user: the socket, the outbox, typing state, and the
 * binding of socket events onto the TanStack Query cache (rooms list and history pages).
 */
export class LiveSession {
  readonly api: HttpApi;
  readonly userId: string;
  readonly socket: ChatSocket;
  readonly outbox: Outbox;
  readonly outboxView: OutboxView;
  readonly typing: TypingTracker;
  readonly recent = new RecentMessages();
  private readonly notifier: TypingNotifier;
  private readonly reads: ReadMarker;
  private readonly qc: QueryClient;
  private readonly offs: (() => void)[] = [];
  private activeRoomId: string | undefined;

  constructor(opts: LiveSessionOptions) {
    this.api = opts.api;
    this.userId = opts.userId;
    this.qc = opts.queryClient;
    this.socket = new ChatSocket({ url: opts.url, auth: opts.session });
    this.outbox = new Outbox({
      storage: new LocalOutboxStorage(opts.storage, opts.userId),
      send: (item) => this.socket.sendMessage(item),
    });
    this.outboxView = new OutboxView(this.outbox);
    this.typing = new TypingTracker(opts.userId);
    this.notifier = new TypingNotifier((roomId, typing) => void this.socket.typing(roomId, typing).catch(() => undefined));
    this.reads = new ReadMarker((roomId, seq) => this.socket.markRead(roomId, seq));
    this.bind();
  }

  /** The room on screen: its messages count as read and do not raise its unread badge. */
  setActiveRoom(roomId: string | undefined): void {
    this.activeRoomId = roomId;
    if (roomId === undefined) return;
    const room = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms)?.find((r) => r.id === roomId);
    if (room && room.unread > 0) this.markRead(roomId, room.lastSeq);
  }

  send(roomId: string, content: string): void {
    this.notifier.stop(roomId);
    this.outbox.enqueue(roomId, content);
  }

  retry(id: string): void {
    this.outbox.retry(id);
  }

  discard(id: string): void {
    this.outbox.discard(id);
  }

  typed(roomId: string): void {
    this.notifier.input(roomId);
  }

  markRead(roomId: string, seq: number): void {
    this.reads.read(roomId, seq);
    this.qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withRoomRead(rooms, roomId));
  }

  close(): void {
    for (const off of this.offs) off();
    this.notifier.close();
    this.reads.close();
    this.typing.close();
    this.outboxView.close();
    this.outbox.close();
    this.socket.close();
  }

  /** After the SDK gave up (offline), e.g. from the banner's button or when the browser is back online. */
  reconnect = (): void => {
    if (this.socket.connectionState === 'offline') this.socket.connect();
  };

  private bind(): void {
    const s = this.socket;
    window.addEventListener('online', this.reconnect);
    this.offs.push(
      () => window.removeEventListener('online', this.reconnect),
      s.on('connection', (state) => this.outbox.setOnline(state === 'connected')),
      s.on('message', (m) => this.onMessage(m)),
      s.on('messageUpdated', (m) => this.qc.setQueryData<HistoryData>(queryKeys.history(m.roomId), (d) => d && withUpdatedMessage(d, m))),
      s.on('typing', (e) => this.typing.apply(e)),
      s.on('roomJoined', () => void this.qc.invalidateQueries({ queryKey: queryKeys.rooms })),
      s.on('roomLeft', (roomId) => {
        this.qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withoutRoom(rooms, roomId));
        this.qc.removeQueries({ queryKey: queryKeys.history(roomId) });
      }),
      s.on('memberJoined', (e) => void this.qc.invalidateQueries({ queryKey: queryKeys.members(e.roomId) })),
      s.on('memberLeft', (e) => void this.qc.invalidateQueries({ queryKey: queryKeys.members(e.roomId) })),
      // Our own messages arrive here too (the SDK delivers acked sends), so the optimistic row hands over
      // to the stored one without a gap.
      this.outbox.on('change', (item) => item.message && this.onMessage(item.message)),
    );
  }

  private onMessage(m: Message): void {
    this.recent.add(m);
    this.typing.stopped(m.roomId, m.senderId);
    this.qc.setQueryData<HistoryData>(queryKeys.history(m.roomId), (d) => d && withMessage(d, m));
    const rooms = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms);
    if (rooms) {
      const next = withIncomingMessage(rooms, m, { userId: this.userId, activeRoomId: this.activeRoomId });
      if (next) this.qc.setQueryData(queryKeys.rooms, next);
      else void this.qc.invalidateQueries({ queryKey: queryKeys.rooms });
    }
    if (m.roomId === this.activeRoomId && document.visibilityState === 'visible') this.reads.read(m.roomId, m.seq);
  }
}
