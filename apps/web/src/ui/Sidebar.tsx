import { useState } from 'react';
import { useAuth } from './auth-context';
import { DiscoverRooms } from './DiscoverRooms';
import { NewRoomForm } from './NewRoomForm';
import { RoomList } from './RoomList';

type Panel = 'none' | 'create' | 'discover';

export function Sidebar({ displayName, activeRoomId }: { displayName: string; activeRoomId: string | undefined }) {
  const auth = useAuth();
  const [panel, setPanel] = useState<Panel>('none');
  const toggle = (p: Panel) => setPanel((cur) => (cur === p ? 'none' : p));
  const tab = (p: Panel) => `flex-1 rounded-md px-2 py-1.5 text-sm font-medium ${panel === p ? 'bg-indigo-600 text-white' : 'bg-slate-100 text-slate-700 hover:bg-slate-200'}`;

  return (
    <>
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <div className="min-w-0">
          <h1 className="font-semibold">Chat</h1>
          <p className="truncate text-xs text-slate-500">{displayName}</p>
        </div>
        <button onClick={() => void auth.signOut()} className="text-sm text-slate-500 hover:text-slate-800">
          Sign out
        </button>
      </header>
      <div className="flex gap-2 px-4 py-3">
        <button className={tab('create')} onClick={() => toggle('create')}>
          New room
        </button>
        <button className={tab('discover')} onClick={() => toggle('discover')}>
          Browse rooms
        </button>
      </div>
      {panel === 'create' && <NewRoomForm onDone={() => setPanel('none')} />}
      {panel === 'discover' && <DiscoverRooms onJoined={() => setPanel('none')} />}
      <RoomList activeRoomId={activeRoomId} />
    </>
  );
}
