import { useState } from 'react';
import { openRoom } from '../chat/room-route';
import { AccountPanel } from './AccountPanel';
import { useAuth } from './auth-context';
import { DiscoverRooms } from './DiscoverRooms';
import { NewRoomForm } from './NewRoomForm';
import { RoomList } from './RoomList';
import { SearchPanel } from './SearchPanel';
import { useEscape } from './use-escape';
import { ThemeToggle } from './ThemeToggle';
import { UserSearch } from './UserSearch';

type Panel = 'none' | 'create' | 'discover' | 'direct' | 'search' | 'account';

const PANELS: { panel: Exclude<Panel, 'none'>; label: string }[] = [
  { panel: 'create', label: 'New room' },
  { panel: 'discover', label: 'Browse rooms' },
  { panel: 'direct', label: 'Message someone' },
  { panel: 'search', label: 'Search' },
];

export function Sidebar({ displayName, activeRoomId }: { displayName: string; activeRoomId: string | undefined }) {
  const auth = useAuth();
  const [panel, setPanel] = useState<Panel>('none');
  const toggle = (p: Panel) => setPanel((cur) => (cur === p ? 'none' : p));
  const close = () => setPanel('none');
  useEscape(close, panel !== 'none');

  return (
    <>
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <div className="min-w-0">
          <h1 className="font-semibold">Chat</h1>
          <p className="truncate text-xs text-slate-500">Signed in as {displayName}</p>
        </div>
        <div className="flex shrink-0 gap-3">
          <ThemeToggle />
          <button onClick={() => toggle('account')} aria-expanded={panel === 'account'} className="text-sm text-slate-500 hover:text-slate-800">
            Account
          </button>
          <button
            onClick={() => {
              // A deliberate sign-out leaves no room behind for the next person on this browser.
              openRoom(undefined);
              void auth.signOut();
            }}
            className="text-sm text-slate-500 hover:text-slate-800">
            Sign out
          </button>
        </div>
      </header>
      <div className="flex gap-1.5 px-4 py-3">
        {PANELS.map(({ panel: p, label }) => (
          <button
            key={p}
            onClick={() => toggle(p)}
            aria-expanded={panel === p}
            className={`flex-1 rounded-md px-1.5 py-1.5 text-xs font-medium sm:text-sm ${panel === p ? 'bg-indigo-600 text-white' : 'bg-slate-100 text-slate-700 hover:bg-slate-200'}`}
          >
            {label}
          </button>
        ))}
      </div>
      {panel === 'create' && <NewRoomForm onDone={close} />}
      {panel === 'discover' && <DiscoverRooms onJoined={close} />}
      {panel === 'direct' && <UserSearch onDone={close} />}
      {panel === 'search' && <SearchPanel activeRoomId={activeRoomId} onDone={close} />}
      {panel === 'account' && <AccountPanel />}
      <RoomList activeRoomId={activeRoomId} />
    </>
  );
}
