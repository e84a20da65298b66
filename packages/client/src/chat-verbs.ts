import type { AckOptionalEvent, ClientEventName, Message, Presence, SendMessage, SyncRequest, SyncRoomResult } from '@chat/protocol';
import type { AckOf, AckOptions, PayloadOf } from './ack-sender';
import { Emitter, type EventMap } from './emitter';

/**
 * The protocol's requests as typed methods over one `emitWithAck`. A base class of `ChatSocket` rather
 * than a member, so the verbs stay its own methods: its public API, and what a subclass overrides to
 * observe them (the benchmark watches `sync` and `markDelivered`, which the SDK itself calls).
 */
export abstract class ChatVerbs<Events extends EventMap<Events>> extends Emitter<Events> {
  abstract emitWithAck<E extends ClientEventName>(event: E, payload: PayloadOf<E>, opts?: AckOptions): Promise<AckOf<E>>;

  /** Emits without an acknowledgement (events the protocol allows it for); buffered while disconnected. */
  abstract notify<E extends AckOptionalEvent>(event: E, payload: PayloadOf<E>): void;

  /** Our own acknowledged message: it counts as received, because the server may not echo it to us. */
  protected abstract acceptOwn(message: Message): void;

  /** Sends a new message; the id is created once here and kept across retries. */
  send(roomId: string, content: string, replyTo?: string): { id: string; ack: Promise<Message> } {
    const id = crypto.randomUUID();
    const payload: SendMessage = { id, roomId, content };
    if (replyTo !== undefined) payload.replyTo = replyTo;
    return { id, ack: this.sendMessage(payload) };
  }

  /** Sends with a caller-chosen id (the outbox, which persists ids across reloads). */
  async sendMessage(payload: SendMessage, opts?: AckOptions): Promise<Message> {
    const { message } = await this.emitWithAck('message:send', payload, opts);
    this.acceptOwn(message);
    return message;
  }

  async edit(id: string, content: string): Promise<Message> {
    return (await this.emitWithAck('message:edit', { id, content })).message;
  }
  async delete(id: string): Promise<void> {
    await this.emitWithAck('message:delete', { id });
  }
  async react(messageId: string, emoji: string): Promise<void> {
    await this.emitWithAck('reaction:add', { messageId, emoji });
  }
  async unreact(messageId: string, emoji: string): Promise<void> {
    await this.emitWithAck('reaction:remove', { messageId, emoji });
  }
  /**
   * Reports messages up to `seq` delivered, without an acknowledgement: cursors are cumulative, so a lost
   * receipt is covered by the next one, and an answer per receipt would cost the server a socket write each.
   * (The SDK sends these itself, batched; see ReceiptBatcher.)
   */
  async markDelivered(roomId: string, seq: number): Promise<void> {
    this.notify('message:delivered', { roomId, seq });
  }
  async markRead(roomId: string, seq: number): Promise<void> {
    await this.emitWithAck('message:read', { roomId, seq });
  }
  /** Typing is ephemeral: one attempt, no retries. */
  async typing(roomId: string, typing: boolean): Promise<void> {
    await this.emitWithAck('typing', { roomId, typing }, { retries: 0 });
  }
  async presenceGet(userIds: string[]): Promise<Presence[]> {
    return (await this.emitWithAck('presence:get', { userIds })).presence;
  }
  /** One raw sync call; most apps rely on the automatic syncs and the `message` event instead. */
  async sync(request: SyncRequest): Promise<SyncRoomResult[]> {
    return (await this.emitWithAck('sync', request)).rooms;
  }
}
