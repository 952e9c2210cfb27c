/**
 * Start: read /config.json, set up i18n and the login, render. Nothing here is inline in
 * index.html (the Content-Security-Policy allows scripts from this origin only).
 */
import '@kern-ux/native/dist/kern.min.css';
import '@kern-ux/native/dist/fonts/fira-sans.css';
import './styles/app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { AppProvider } from './app/context';
import { Auth } from './auth/auth';
import { loadConfig } from './config';
import i18n, { initI18n } from './i18n';

async function start() {
  initI18n();
  const root = createRoot(document.getElementById('root')!);
  try {
    const config = await loadConfig();
    const auth = new Auth(config);
    root.render(
      <StrictMode>
        <AppProvider config={config} auth={auth}>
          <App />
        </AppProvider>
      </StrictMode>,
    );
  } catch {
    root.render(
      <main className="kern-container app-main">
        <div className="kern-alert kern-alert--danger" role="alert">
          <div className="kern-alert__header">
            <span className="kern-icon kern-icon--danger" aria-hidden="true" />
            <span className="kern-title">{i18n.t('errors.config')}</span>
          </div>
        </div>
      </main>,
    );
  }
}

void start();
