import type { Member, Role } from '@chat/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { TIMEOUT_CHOICES, outranks } from '../chat/moderation';
import { queryKeys } from '../chat/queries';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

type Pending = 'none' | 'owner' | 'admin' | 'member' | 'kick' | 'ban' | 'timeout';

/**
 * What an owner or admin can do to one member, under the member's row: roles (owner only, including handing
 * the room over), time out for a chosen duration, remove, ban with a reason. Every step that cannot be
 * undone by a click asks first; the server's refusal is shown as it is. Other clients follow through
 * `member:updated` / `member:left` / `room:left`.
 */
export function MemberActions({ roomId, member, myRole, onDone }: { roomId: string; member: Member; myRole: Role; onDone: () => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [pending, setPending] = useState<Pending>('none');
  const [reason, setReason] = useState('');
  const [seconds, setSeconds] = useState(TIMEOUT_CHOICES[1]!.seconds);
  const act = useMutation({
    mutationFn: async (what: Exclude<Pending, 'none'>) => {
      const why = reason.trim() || undefined;
      switch (what) {
        case 'owner':
        case 'admin':
        case 'member':
          return void (await live.api.setRole(roomId, member.userId, what));
        case 'kick':
          return live.api.kick(roomId, member.userId);
        case 'ban':
          await live.api.ban(roomId, member.userId, why);
          return void qc.invalidateQueries({ queryKey: queryKeys.bans(roomId) });
        case 'timeout':
          return live.api.timeout(roomId, member.userId, seconds, why);
      }
    },
    onSuccess: onDone,
  });
  const owner = myRole === 'owner';
  const name = member.displayName;
  const button = 'rounded px-2 py-0.5 text-xs ring-1 ring-slate-200 hover:bg-slate-50 disabled:opacity-50';
  const danger = 'rounded bg-red-600 px-2 py-0.5 text-xs font-medium text-white disabled:opacity-50';

  return (
    <div role="group" aria-label={`Manage ${name}`} className="space-y-2 bg-slate-50 px-4 py-2 text-xs">
      {pending === 'none' && (
        <div className="flex flex-wrap gap-1.5">
          {owner && member.role === 'member' && (
            <button className={button} onClick={() => setPending('admin')}>
              Make admin
            </button>
          )}
          {owner && member.role === 'admin' && (
            <button className={button} onClick={() => setPending('member')}>
              Make member
            </button>
          )}
          {owner && (
            <button className={button} onClick={() => setPending('owner')}>
              Make owner
            </button>
          )}
          {outranks(myRole, member.role) && (
            <>
              <button className={button} onClick={() => setPending('timeout')}>
                Time out
              </button>
              <button className={button} onClick={() => setPending('kick')}>
                Remove
              </button>
              <button className={button} onClick={() => setPending('ban')}>
                Ban
              </button>
            </>
          )}
        </div>
      )}
      {pending === 'admin' && (
        <Confirm text={`Make ${name} an admin? Admins moderate members and manage requests.`} label="Make admin" onYes={() => act.mutate('admin')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
      )}
      {pending === 'member' && (
        <Confirm text={`Make ${name} a plain member again?`} label="Make member" onYes={() => act.mutate('member')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
      )}
      {pending === 'owner' && (
        <Confirm text={`Hand the room over to ${name}? You become an admin.`} label="Hand over" onYes={() => act.mutate('owner')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
      )}
      {pending === 'kick' && (
        <Confirm text={`Remove ${name} from the room? They can join a public room again.`} label="Remove" onYes={() => act.mutate('kick')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
      )}
      {pending === 'timeout' && (
        <div className="space-y-1.5">
          <label className="flex items-center gap-2">
            <span>Time out {name} for</span>
            <select value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} className="rounded border border-slate-300 px-1 py-0.5">
              {TIMEOUT_CHOICES.map((c) => (
                <option key={c.seconds} value={c.seconds}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <Reason value={reason} onChange={setReason} />
          <Confirm text="They can read but not write until it ends." label="Time out" onYes={() => act.mutate('timeout')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
        </div>
      )}
      {pending === 'ban' && (
        <div className="space-y-1.5">
          <Reason value={reason} onChange={setReason} />
          <Confirm text={`Ban ${name}? They are removed and cannot come back until unbanned.`} label="Ban" onYes={() => act.mutate('ban')} onNo={() => setPending('none')} busy={act.isPending} danger={danger} />
        </div>
      )}
      <ErrorAlert error={act.error} className="" />
    </div>
  );
}

function Reason({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <input
      value={value}
      maxLength={500}
      onChange={(e) => onChange(e.target.value)}
      placeholder="Reason (optional, shown in the audit log)"
      aria-label="Reason"
      className="w-full rounded border border-slate-300 px-2 py-0.5"
    />
  );
}

function Confirm(props: { text: string; label: string; onYes: () => void; onNo: () => void; busy: boolean; danger: string }) {
  return (
    <div className="flex flex-wrap items-center gap-1.5">
      <span className="flex-1">{props.text}</span>
      <button className={props.danger} disabled={props.busy} onClick={props.onYes}>
        {props.label}
      </button>
      <button className="rounded px-2 py-0.5 ring-1 ring-slate-200" onClick={props.onNo}>
        Cancel
      </button>
    </div>
  );
}
