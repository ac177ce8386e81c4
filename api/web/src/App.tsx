// The shell: sign-in gate, navigation, and the route table.
import { useEffect, useRef } from 'react';
import { useAuth } from './lib/auth';
import { useLiveStatus } from './lib/live';
import { Link, match, useLocation } from './lib/router';
import { Loading } from './components/status';
import { LoginPage } from './pages/LoginPage';
import { OverviewPage } from './pages/OverviewPage';
import { AgentsPage } from './pages/AgentsPage';
import { AgentPage } from './pages/AgentPage';
import { AlertsPage } from './pages/AlertsPage';
import { ClientsPage } from './pages/ClientsPage';
import { PoliciesPage } from './pages/PoliciesPage';
import { EnrollmentPage } from './pages/EnrollmentPage';
import { AuditPage } from './pages/AuditPage';
import { UsersPage } from './pages/UsersPage';
import { CommandPage } from './pages/CommandPage';
import { BatchPage } from './pages/BatchPage';
import { ReleasesPage } from './pages/ReleasesPage';
import { RolloutPage } from './pages/RolloutPage';
import { TopBar } from './components/TopBar';

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/agents', 'Agents'],
  ['/alerts', 'Alerts'],
  ['/clients', 'Clients & sites'],
  ['/policies', 'Policies'],
  ['/releases', 'Releases & rollouts'],
  ['/enrollment', 'Enrollment'],
  ['/audit', 'Audit log'],
  ['/users', 'Users'],
];

function Routes() {
  const loc = useLocation();
  const p = loc.path;
  let m: Record<string, string> | null;
  if (p === '/') return <OverviewPage />;
  if (p === '/agents') return <AgentsPage loc={loc} />;
  if ((m = match('/agents/:id', p))) return <AgentPage id={m.id} loc={loc} />;
  if ((m = match('/commands/:id', p))) return <CommandPage id={m.id} />;
  if ((m = match('/batches/:id', p))) return <BatchPage id={m.id} />;
  if (p === '/alerts') return <AlertsPage loc={loc} />;
  if (p === '/clients') return <ClientsPage />;
  if (p === '/policies') return <PoliciesPage loc={loc} />;
  if (p === '/enrollment') return <EnrollmentPage />;
  if (p === '/audit') return <AuditPage loc={loc} />;
  if (p === '/users') return <UsersPage />;
  if (p === '/releases') return <ReleasesPage />;
  if ((m = match('/rollouts/:id', p))) return <RolloutPage id={m.id} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{p}</code>. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}

function LiveIndicator() {
  const s = useLiveStatus();
  const text = { open: 'live', connecting: 'connecting…', error: 'reconnecting…',
                 closed: 'not live' }[s];
  return (
    <span className={`live live-${s}`} title="Live updates (/api/v1/live)" role="status">
      {text}
    </span>
  );
}

export function App() {
  const { user, checking } = useAuth();
  const loc = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const section = '/' + (loc.path.split('/')[1] ?? '');

  useEffect(() => {
    const label = NAV.find(([to]) => to === section)?.[1];
    document.title = label ? `${label} · GuruRMM` : 'GuruRMM';
  }, [section]);

  if (checking) return <Loading what="your session" />;
  if (!user) return <LoginPage />;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <TopBar nav={NAV} section={section} live={<LiveIndicator />} />
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Routes />
      </main>
    </>
  );
}
