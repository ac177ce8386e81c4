import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AuthProvider } from './lib/auth';
import { watchSystemTheme } from './lib/theme';
import './styles.css';
import 'uplot/dist/uPlot.min.css';

// The theme is set before the first render, so a dark system never flashes light.
watchSystemTheme();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AuthProvider>
      <App />
    </AuthProvider>
  </StrictMode>,
);
