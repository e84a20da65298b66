import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthStore } from './chat/auth-store';
import { App } from './ui/App';
import { AuthContext } from './ui/auth-context';
import { applyTheme, watchSystemTheme } from './ui/theme';
import './index.css';

// Before the first render, so a dark screen does not flash white.
applyTheme();
watchSystemTheme();

const auth = new AuthStore(window.location.origin, window.localStorage);
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <AuthContext value={auth}>
        <App />
      </AuthContext>
    </QueryClientProvider>
  </StrictMode>,
);
