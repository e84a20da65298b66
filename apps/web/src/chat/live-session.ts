import { ChatSocket, Outbox, type HttpApi, type Session } from '@chat/client';
import type { Attachment, Member, Message, Presence, Receipt, RoomSummary } from '@chat/protocol';
import { MutationObserver, type QueryClient } from '@tanstack/react-query';
import { AlertSettings, shouldAlert } from './alert-settings';
import { playChime } from './chime';
import { DraftStore } from './draft-store';
import { uploadFile, type Upload } from './file-upload';
import { LastSeen } from './last-seen';
import { applyMemberEvent, withMember, withoutMember } from './members-cache';
import { mentions } from './format';
import { withMessage, withReactions, withUpdatedMessage, type HistoryData } from './history-cache';
import { deleteMutationOptions, editMutationOptions, reactMutationOptions } from './message-mutations';
import { Notices } from './notices';
import { LocalOutboxStorage } from './outbox-storage';
import { withPending, type PendingMessage } from './pending-cache';
import { queryKeys } from './queries';
import { ReadMarker } from './read-marker';
import { withReceipt, type RoomReceipts } from './receipts-cache';
import { RecentMessages } from './recent-messages';
import { mentionCounts, roomsChangedSince, withIncomingMessage, withLiveMessages, withLocalReads, withoutRoom, withRoomRead, withRoomUpdate } from './room-list-cache';
import { openRoom } from './room-route';
import { sendMutationOptions, type SendDraft } from './send-mutation';
import { TypingNotifier } from './typing-notifier';
import { TypingTracker } from './typing-tracker';

export interface LiveSessionOptions {
  url: string;
  api: HttpApi;
  session: Session;
  userId: string;
  username: string;
  queryClient: QueryClient;
  storage: Storage;
  /** Browser hooks; absent in tests that drive the session without a window. */
  window?: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  document?: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'>;
}

/**
 * Everything that lives as long as a signed-in user: the socket, the outbox, typing state, and the
 * binding of socket events onto the TanStack Query cache (rooms, history pages, pending rows, receipts,
 * members and presence). React components read the cache and call the methods here; they never touch the
 * socket themselves.
 */
export class LiveSession {
  readonly api: HttpApi;
  /** The server's address (files' links are relative to it). */
  readonly baseUrl: string;
  readonly userId: string;
  readonly username: string;
  readonly socket: ChatSocket;
  readonly drafts: DraftStore;
  readonly outbox: Outbox;
  readonly typing: TypingTracker;
  readonly notices = new Notices();
  readonly recent = new RecentMessages();
  readonly alerts: AlertSettings;
  readonly lastSeen: LastSeen;
  readonly sendOptions: ReturnType<typeof sendMutationOptions>;
  readonly editOptions: ReturnType<typeof editMutationOptions>;
  readonly deleteOptions: ReturnType<typeof deleteMutationOptions>;
  readonly reactOptions: ReturnType<typeof reactMutationOptions>;
  private readonly notifier: TypingNotifier;
  private readonly reads: ReadMarker;
  private readonly qc: QueryClient;
  private readonly session: Session;
  private readonly offs: (() => void)[] = [];
  private readonly win: LiveSessionOptions['window'];
  private readonly doc: LiveSessionOptions['document'];
  private activeRoomId: string | undefined;

  constructor(opts: LiveSessionOptions) {
    this.api = opts.api;
    this.baseUrl = opts.url;
    this.session = opts.session;
    this.userId = opts.userId;
    this.username = opts.username;
    this.drafts = new DraftStore(opts.storage, opts.userId);
    this.alerts = new AlertSettings(opts.storage, opts.userId);
    this.lastSeen = new LastSeen((userIds) => this.socket.presenceGet(userIds));
    this.qc = opts.queryClient;
    this.win = opts.window;
    this.doc = opts.document;
    this.socket = new ChatSocket({ url: opts.url, auth: opts.session });
    this.outbox = new Outbox({
      storage: new LocalOutboxStorage(opts.storage, opts.userId),
      // One attempt per call: the outbox decides when to try again (after reconnecting, paced, in order).
      send: (item) => this.socket.sendMessage(item, { retries: 0 }),
    });
    this.typing = new TypingTracker(opts.userId);
    this.notifier = new TypingNotifier((roomId, typing) => void this.socket.typing(roomId, typing).catch(() => undefined));
    this.reads = new ReadMarker((roomId, seq) => this.socket.markRead(roomId, seq));
    this.sendOptions = sendMutationOptions({ queryClient: this.qc, outbox: this.outbox, onSent: (m) => this.onMessage(m) });
    const deps = { queryClient: this.qc, socket: this.socket, userId: this.userId, onError: (text: string) => this.notices.show(text) };
    this.editOptions = editMutationOptions(deps);
    this.deleteOptions = deleteMutationOptions(deps);
    this.reactOptions = reactMutationOptions(deps);
    this.bind();
    this.restoreOutbox();
  }

  /** The room on screen: its messages count as read and do not raise its unread badge. */
  setActiveRoom(roomId: string | undefined): void {
    this.activeRoomId = roomId;
    this.markActiveRead();
  }

  /** A new message from the composer: an id now, then the optimistic send mutation. */
  newDraft(roomId: string, content: string, replyTo?: string, files?: { id: string; attachments: Attachment[] }): SendDraft {
    this.notifier.stop(roomId);
    const draft: SendDraft = { id: files?.id ?? crypto.randomUUID(), roomId, content, createdAt: new Date().toISOString() };
    if (replyTo !== undefined) draft.replyTo = replyTo;
    if (files && files.attachments.length > 0) draft.attachments = files.attachments;
    return draft;
  }

  /** Uploads a file for the message `messageId` (the composer's next message), with progress. */
  upload(roomId: string, messageId: string, file: Blob & { name: string }, onProgress: (fraction: number) => void): Upload {
    return uploadFile({ baseUrl: this.baseUrl, roomId, messageId, token: this.session.getAccessToken() }, file, onProgress);
  }

  /** Forgets a failed message (the user chose not to retry it). */
  discard(roomId: string, id: string): void {
    this.qc.setQueryData<PendingMessage[]>(queryKeys.pending(roomId), (list) => (list ?? []).filter((p) => p.id !== id));
    this.outbox.discard(id);
  }

  typed(roomId: string): void {
    this.notifier.input(roomId);
  }

  markRead(roomId: string, seq: number): void {
    this.reads.read(roomId, seq);
    this.qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withRoomRead(rooms, roomId));
    this.qc.setQueryData<Record<string, number>>(queryKeys.mentions, (m) => (m?.[roomId] ? { ...m, [roomId]: 0 } : m));
  }

  close(): void {
    for (const off of this.offs) off();
    this.notifier.close();
    this.reads.close();
    this.typing.close();
    this.notices.close();
    this.outbox.close();
    this.socket.close();
  }

  /** "Retry now", or the browser coming back online: cut any scheduled wait short. */
  reconnect = (): void => {
    this.socket.connect();
  };

  private reconcileRooms(): void {
    const rooms = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms);
    if (!rooms) return;
    const live = withLiveMessages(rooms, (roomId, seq) => this.recent.newerThan(roomId, seq), { userId: this.userId, activeRoomId: this.activeRoomId, username: this.username });
    const next = withLocalReads(live, (roomId) => this.reads.readUpTo(roomId));
    if (next !== rooms) this.qc.setQueryData(queryKeys.rooms, next);
    // The server counts unread mentions too, so the counts survive a reload; live ones are added on top.
    this.qc.setQueryData(queryKeys.mentions, mentionCounts(next));
    this.markActiveRead();
  }

  private markActiveRead(): void {
    const roomId = this.activeRoomId;
    if (roomId === undefined || this.doc?.visibilityState === 'hidden') return;
    const room = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms)?.find((r) => r.id === roomId);
    if (room && (room.unread > 0 || room.readSeq < room.lastSeq)) this.markRead(roomId, room.lastSeq);
  }

  private bind(): void {
    const s = this.socket;
    const onVisible = () => this.markActiveRead();
    this.win?.addEventListener('online', this.reconnect);
    // A room list fetched from the server (on mount, after a join…) may predate this client's latest reads.
    this.offs.push(
      this.qc.getQueryCache().subscribe((event) => {
        if (event.type !== 'updated' || event.action.type !== 'success' || event.action.manual) return;
        if (event.query.queryKey[0] !== queryKeys.rooms[0]) return;
        this.reconcileRooms();
      }),
    );
    this.doc?.addEventListener('visibilitychange', onVisible);
    this.offs.push(
      () => this.win?.removeEventListener('online', this.reconnect),
      () => this.doc?.removeEventListener('visibilitychange', onVisible),
      s.on('status', () => {
        this.outbox.setOnline(s.socket.connected);
        // Presence events were missed while away: refresh the member lists (and their online dots).
        if (s.connectionState === 'connected') void this.qc.invalidateQueries({ queryKey: queryKeys.allMembers });
      }),
      s.on('message', (m) => this.onMessage(m)),
      s.on('messageUpdated', (m) => this.qc.setQueryData<HistoryData>(queryKeys.history(m.roomId), (d) => d && withUpdatedMessage(d, m))),
      s.on('reaction', (r) => this.qc.setQueryData<HistoryData>(queryKeys.history(r.roomId), (d) => d && withReactions(d, r))),
      s.on('receipt', (r) => this.onReceipt(r)),
      s.on('typing', (e) => this.typing.apply(e)),
      s.on('presence', (p) => this.onPresence(p)),
      s.on('roomJoined', () => void this.qc.invalidateQueries({ queryKey: queryKeys.rooms })),
      // A room joined or left while away (no event reached this client for it): the list is fetched again.
      s.on('hello', (hello) => {
        const rooms = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms);
        if (rooms && roomsChangedSince(rooms, hello.rooms)) void this.qc.invalidateQueries({ queryKey: queryKeys.rooms });
      }),
      s.on('roomLeft', (roomId) => {
        this.qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withoutRoom(rooms, roomId));
        this.qc.removeQueries({ queryKey: queryKeys.history(roomId) });
      }),
      s.on('roomUpdated', (room) => this.qc.setQueryData<RoomSummary[]>(queryKeys.rooms, (rooms) => rooms && withRoomUpdate(rooms, room))),
      s.on('memberJoined', (e) => this.onMember(e.roomId, e.member)),
      s.on('memberUpdated', (e) => this.onMember(e.roomId, e.member)),
      s.on('memberLeft', (e) => applyMemberEvent(this.qc, e.roomId, (list) => withoutMember(list, e.userId))),
      s.on('synced', () => this.markActiveRead()),
    );
  }

  /** Messages restored from the outbox after a reload go through the same optimistic mutation as new ones. */
  private restoreOutbox(): void {
    for (const item of this.outbox.list()) {
      const draft: SendDraft = { id: item.id, roomId: item.roomId, content: item.content, createdAt: new Date(item.createdAt).toISOString() };
      if (item.replyTo !== undefined) draft.replyTo = item.replyTo;
      if (item.state === 'failed') {
        const row: PendingMessage = { ...draft, status: 'failed', ...(item.error ? { error: item.error } : {}) };
        this.qc.setQueryData<PendingMessage[]>(queryKeys.pending(item.roomId), (list) => withPending(list ?? [], row));
        continue;
      }
      new MutationObserver(this.qc, this.sendOptions).mutate(draft).catch(() => undefined /* shown as a failed row */);
    }
  }

  private onMessage(m: Message): void {
    this.recent.add(m);
    this.typing.stopped(m.roomId, m.senderId);
    this.qc.setQueryData<HistoryData>(queryKeys.history(m.roomId), (d) => d && withMessage(d, m));
    const rooms = this.qc.getQueryData<RoomSummary[]>(queryKeys.rooms);
    const hidden = this.doc?.visibilityState === 'hidden';
    const seen = m.roomId === this.activeRoomId && !hidden;
    const room = rooms?.find((r) => r.id === m.roomId);
    const isNew = (room?.lastSeq ?? 0) < m.seq;
    const own = m.senderId === this.userId;
    const mentionsMe = !own && !m.deleted && mentions(m.content, this.username);
    if (!seen && isNew && mentionsMe) {
      this.qc.setQueryData<Record<string, number>>(queryKeys.mentions, (counts) => ({ ...counts, [m.roomId]: (counts?.[m.roomId] ?? 0) + 1 }));
    }
    if (hidden && isNew && shouldAlert({ own, deleted: m.deleted === true, muted: this.alerts.isMuted(m.roomId), direct: room?.type === 'direct', mentionsMe })) {
      this.alert(m, room?.type === 'direct' ? undefined : room?.name);
    }
    if (rooms) {
      const next = withIncomingMessage(rooms, m, { userId: this.userId, activeRoomId: this.activeRoomId, username: this.username });
      if (next) this.qc.setQueryData(queryKeys.rooms, next);
      else void this.qc.invalidateQueries({ queryKey: queryKeys.rooms });
    }
    if (m.roomId === this.activeRoomId && this.doc?.visibilityState !== 'hidden') this.reads.read(m.roomId, m.seq);
  }

  /** A desktop notification (when granted and switched on) and the optional sound, for a hidden tab. */
  private alert(m: Message, roomName: string | undefined): void {
    const choices = this.alerts.current();
    if (choices.desktop && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      const n = new Notification(roomName ? `${m.senderName} in #${roomName}` : m.senderName, { body: m.content.slice(0, 200), tag: m.roomId });
      n.onclick = () => {
        window.focus();
        openRoom(m.roomId);
        n.close();
      };
    }
    if (choices.sound) playChime();
  }

  private onReceipt(r: Receipt): void {
    if (r.userId === this.userId) return;
    this.qc.setQueryData<RoomReceipts>(queryKeys.receipts(r.roomId), (map) => withReceipt(map ?? {}, r));
  }

  private onPresence(p: Presence): void {
    this.lastSeen.record(p.userId, p.online, p.lastSeen);
    // One user's dot in every member list that shows them.
    this.qc.setQueriesData<Member[]>({ queryKey: queryKeys.allMembers }, (list) =>
      list?.some((m) => m.userId === p.userId && m.online !== p.online) ? list.map((m) => (m.userId === p.userId ? { ...m, online: p.online } : m)) : list,
    );
  }

  private onMember(roomId: string, member: Member): void {
    applyMemberEvent(this.qc, roomId, (list) => withMember(list, member));
  }
}
