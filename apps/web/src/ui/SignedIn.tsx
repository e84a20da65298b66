import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { LiveSession } from '../chat/live-session';
import { meQuery } from '../chat/queries';
import { currentRoomId, subscribeRoute } from '../chat/room-route';
import { useAuth } from './auth-context';
import { ConnectionBanner } from './ConnectionBanner';
import { LiveSessionContext } from './live-session-context';
import { Notices } from './Notices';
import { RoomView } from './RoomView';
import { Sidebar } from './Sidebar';
import { useTabBadge } from './use-tab-badge';

export function SignedIn() {
  const auth = useAuth();
  const queryClient = useQueryClient();
  const me = useQuery(meQuery(auth.api));
  const [live, setLive] = useState<LiveSession>();
  const userId = me.data?.id;
  const username = me.data?.username ?? '';

  useEffect(() => {
    if (!userId) return;
    const session = new LiveSession({
      url: window.location.origin,
      api: auth.api,
      session: auth.session,
      userId,
      username,
      queryClient,
      storage: window.localStorage,
      window,
      document,
    });
    setLive(session);
    return () => {
      session.close();
      // The next account on this tab must not see this one's rooms.
      queryClient.clear();
    };
  }, [auth, queryClient, userId, username]);

  if (me.isError) {
    return (
      <p className="p-6 text-center text-sm text-slate-600">
        Could not load your account.{' '}
        <button className="text-indigo-600 underline" onClick={() => void auth.signOut()}>
          Sign out
        </button>
      </p>
    );
  }
  if (!live || !me.data) return <p className="p-6 text-center text-sm text-slate-500">Loading…</p>;
  return (
    <LiveSessionContext value={live}>
      <Shell displayName={me.data.displayName} />
    </LiveSessionContext>
  );
}

function Shell({ displayName }: { displayName: string }) {
  const roomId = useSyncExternalStore(subscribeRoute, currentRoomId);
  useTabBadge();
  return (
    <div className="flex h-dvh flex-col">
      <ConnectionBanner />
      <Notices />
      <div className="flex min-h-0 flex-1">
        <aside className={`${roomId ? 'hidden md:flex' : 'flex'} w-full flex-col border-slate-200 bg-surface md:w-80 md:border-r`}>
          <Sidebar displayName={displayName} activeRoomId={roomId} />
        </aside>
        <main className={`${roomId ? 'flex' : 'hidden md:flex'} min-w-0 flex-1 flex-col`}>
          {roomId ? <RoomView key={roomId} roomId={roomId} /> : <EmptyRoom />}
        </main>
      </div>
    </div>
  );
}

function EmptyRoom() {
  return <div className="m-auto text-sm text-slate-500">Pick a room, or create one.</div>;
}
