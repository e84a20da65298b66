-- 0007_send_checks_membership: a send is refused unless its sender is a current member of the room, and
-- every lookup of the send statement is a key lookup whatever the cached plan.
--
-- Sends were authorised by the socket's room channel alone (O(1), no query), which membership changes keep
-- in step through the cluster bus: a kick, ban or leave whose broadcast is lost (Redis Pub/Sub cut) left
-- the socket able to send indefinitely. The batch statement now checks each new message's member row (an
-- index lookup on its key, inside the statement that already locks the room): not a member of a public
-- room is 'not_member' (FORBIDDEN), of a private or direct room 'no_room' (NOT_FOUND, as everywhere else a
-- hidden room is). A retry of an id already stored is still answered from the store.
--
-- And a send no longer moves its sender's own cursors (PROTOCOL.md "Own messages"): that UPDATE locked the
-- sender's member row while the batch held its rooms, so every batch could wait for the once-a-second
-- receipt write holding that row until its commit (docs/performance.md row 10: on one node 63 msg/s with
-- it, 500 without). Clients mark what they show as read, their own messages included, and `unread` never
-- counted own messages. The send now locks rooms only; the receipt writer locks member rows only.
--
-- CREATE OR REPLACE resets the function's settings, so those of 0003 and 0004 are set again below.

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
        -- The socket's room channel is a cache of membership; the write path checks the row itself, so a
        -- kick, ban or leave whose broadcast was lost still stops the sender here.
        when rm.found is null then case when r.type = 'public' then 'not_member' else 'no_room' end
        when x.reply_to is not null
          and rt.room_id is distinct from x.room_id
          and not exists (select 1 from input e where e.id = x.reply_to and e.room_id = x.room_id and e.i < x.i)
          then 'bad_reply'
        else 'created'
      end as outcome,
      r.last_seq
    from input x
    -- Every lookup is a LATERAL subquery with LIMIT 1 (a fence against being flattened into a join): the
    -- function's generic plan is made once per connection, often while the tables are nearly empty, and a
    -- plain join was then planned as a full index scan of `messages` filtered per row, kept as the table
    -- grew (auto_explain, docs/performance.md row 11). Inside the fence each is a key lookup by parameter.
    left join lateral (select s.id, s.sender_id, s.room_id from messages s where s.id = x.id limit 1) m on true
    left join lateral (select s.id, s.type, s.last_seq from rooms s where s.id = x.room_id limit 1) r on true
    left join lateral (
      select true as found from room_members s where s.room_id = x.room_id and s.user_id = x.sender_id and s.left_at is null limit 1
    ) rm on true
    left join lateral (select s.room_id from messages s where s.id = x.reply_to limit 1) rt on true
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
  left join lateral (
    select s.room_id, s.seq, s.sender_id, s.content, s.reply_to, s.created_at, s.edited_at, s.deleted_at, s.id
    from messages s where s.id = c.id and c.outcome = 'stored' limit 1
  ) m on true
  left join lateral (select s.display_name from users s where s.id = c.sender_id and c.outcome = 'stored' limit 1) u on true
  -- (allocated runs although nothing reads it: data-modifying CTEs always run to completion.)
  order by c.i;
end;
$$;

alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set plan_cache_mode = force_generic_plan;
alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set enable_seqscan = off;
