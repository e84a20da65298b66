import { useSyncExternalStore } from 'react';
import { useAuth } from './auth-context';
import { AuthScreen } from './AuthScreen';
import { SignedIn } from './SignedIn';

export function App() {
  const auth = useAuth();
  const signedIn = useSyncExternalStore(auth.subscribe, auth.isSignedIn);
  return signedIn ? <SignedIn /> : <AuthScreen />;
}
