-- 0006_write_path_lock_order: the two write-path functions lock member rows in one order.
--
-- chat_send_messages moves each sender's own cursors (an UPDATE of their room_members row) and
-- chat_move_cursors writes a window of receipts (an UPDATE of many room_members rows). Both updated rows
-- in whatever order their plans produced, so a send batch and a receipt write could each hold a row the
-- other wanted: a deadlock, which PostgreSQL detects only after deadlock_timeout (1 s) and resolves by
-- failing one of them. Under `pnpm bench ramp` on one node this was a delivery p99 of ~1,000 ms from
-- 500 msg/s on (docs/performance.md). Now both lock the rows first, sorted by (room_id, user_id); the
-- send still locks its rooms before anything else, and the receipt writer never locks rooms.
--
-- CREATE OR REPLACE resets the functions' settings, so those of 0003 and 0004 are set again below.

create or replace function chat_send_messages(
  p_ids uuid[],
  p_rooms text[],
  p_senders text[],
  p_contents text[],
  p_replies uuid[]
) returns table (
  i           bigint,
  outcome     text,
  id          uuid,
  room_id     text,
  seq         bigint,
  sender_id   text,
  sender_name text,
  content     text,
  reply_to    uuid,
  created_at  timestamptz,
  edited_at   timestamptz,
  deleted_at  timestamptz
) language plpgsql as $$
#variable_conflict use_column
begin
  perform 1 from rooms r where r.id = any (p_rooms) order by r.id for update;
  -- Then the senders' member rows, in (room, user) order, before the statement below updates them: the
  -- receipt writer (chat_move_cursors) locks member rows in the same order, so the two never deadlock.
  perform 1 from room_members m
    join (select distinct t.room_id, t.sender_id from unnest(p_rooms, p_senders) as t(room_id, sender_id)) k
      on m.room_id = k.room_id and m.user_id = k.sender_id
    order by m.room_id, m.user_id
    for update of m;

  -- A new statement, so a new snapshot: it sees what the batches we waited for committed.
  return query
  with input as (
    select t.ord as i, t.id, t.room_id, t.sender_id, t.content, t.reply_to
    from unnest(p_ids, p_rooms, p_senders, p_contents, p_replies) with ordinality
      as t(id, room_id, sender_id, content, reply_to, ord)
  ),
  classified as (
    select
      x.*,
      case
        when m.id is not null then
          case when m.sender_id = x.sender_id and m.room_id = x.room_id then 'stored' else 'conflict' end
        when exists (select 1 from input e where e.id = x.id and e.i < x.i) then 'duplicate'
        when r.id is null then 'no_room'
        when x.reply_to is not null
          and not exists (select 1 from messages t where t.id = x.reply_to and t.room_id = x.room_id)
          and not exists (select 1 from input e where e.id = x.reply_to and e.room_id = x.room_id and e.i < x.i)
          then 'bad_reply'
        else 'created'
      end as outcome,
      r.last_seq
    from input x
    left join messages m on m.id = x.id
    left join rooms r on r.id = x.room_id
  ),
  numbered as (
    select c.*, c.last_seq + row_number() over (partition by c.room_id order by c.i) as new_seq
    from classified c
    where c.outcome = 'created'
  ),
  allocated as (
    update rooms r set last_seq = r.last_seq + n.k
    from (select b.room_id, count(*) as k from numbered b group by b.room_id) n
    where r.id = n.room_id
  ),
  inserted as (
    insert into messages (id, room_id, seq, sender_id, content, reply_to)
    select b.id, b.room_id, b.new_seq, b.sender_id, b.content, b.reply_to from numbered b
    returning messages.id, messages.created_at
  ),
  own_cursors as (
    update room_members rm
    set delivered_seq = greatest(rm.delivered_seq, o.s), read_seq = greatest(rm.read_seq, o.s)
    from (select b.room_id, b.sender_id, max(b.new_seq) as s from numbered b group by b.room_id, b.sender_id) o
    where rm.room_id = o.room_id and rm.user_id = o.sender_id
  )
  select
    c.i,
    c.outcome,
    coalesce(m.id, c.id),
    coalesce(m.room_id, c.room_id),
    coalesce(m.seq, b.new_seq),
    coalesce(m.sender_id, c.sender_id),
    u.display_name,
    coalesce(m.content, c.content),
    case when c.outcome = 'stored' then m.reply_to else c.reply_to end,
    coalesce(m.created_at, ins.created_at),
    m.edited_at,
    m.deleted_at
  from classified c
  left join numbered b on b.i = c.i
  left join inserted ins on ins.id = c.id and c.outcome = 'created'
  left join messages m on m.id = c.id and c.outcome = 'stored'
  left join users u on u.id = c.sender_id and c.outcome = 'stored'
  -- (allocated and own_cursors run although nothing reads them: data-modifying CTEs always run to completion.)
  order by c.i;
end;
$$;

create or replace function chat_move_cursors(
  p_rooms text[],
  p_users text[],
  p_reads boolean[],
  p_seqs bigint[]
) returns table (
  outcome       text,
  i             bigint,
  room_id       text,
  user_id       text,
  delivered_seq bigint,
  read_seq      bigint
) language plpgsql as $$
#variable_conflict use_column
begin
  -- Lock the member rows in (room, user) order first (see chat_send_messages).
  perform 1 from room_members m
    join (select distinct t.room_id, t.user_id from unnest(p_rooms, p_users) as t(room_id, user_id)) k
      on m.room_id = k.room_id and m.user_id = k.user_id
    order by m.room_id, m.user_id
    for update of m;
  return query
  with events as (
    select t.ord as i, t.room_id, t.user_id, t.is_read, t.seq, (t.seq <= r.last_seq) is true as valid
    from unnest(p_rooms, p_users, p_reads, p_seqs) with ordinality as t(room_id, user_id, is_read, seq, ord)
    left join rooms r on r.id = t.room_id
  ),
  merged as (
    select e.room_id, e.user_id, max(e.seq) as delivered, coalesce(max(e.seq) filter (where e.is_read), 0) as read
    from events e
    where e.valid
    group by e.room_id, e.user_id
  ),
  moved as (
    update room_members m
    set delivered_seq = greatest(m.delivered_seq, g.delivered), read_seq = greatest(m.read_seq, g.read)
    from merged g
    where m.room_id = g.room_id and m.user_id = g.user_id and m.left_at is null
      and (g.delivered > m.delivered_seq or g.read > m.read_seq)
    returning m.room_id, m.user_id, m.delivered_seq, m.read_seq
  )
  select 'moved'::text, null::bigint, v.room_id, v.user_id, v.delivered_seq, v.read_seq from moved v
  union all
  select 'invalid'::text, e.i, e.room_id, e.user_id, null::bigint, null::bigint from events e where not e.valid;
end;
$$;

alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set plan_cache_mode = force_generic_plan;
alter function chat_move_cursors(text[], text[], boolean[], bigint[]) set plan_cache_mode = force_generic_plan;
alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set enable_seqscan = off;
alter function chat_move_cursors(text[], text[], boolean[], bigint[]) set enable_seqscan = off;
