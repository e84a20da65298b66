import { createContext, use } from 'react';
import type { AuthStore } from '../chat/auth-store';

export const AuthContext = createContext<AuthStore | null>(null);

export function useAuth(): AuthStore {
  const auth = use(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthContext');
  return auth;
}
