// Enrollment codes: create (the code and its one-line install are shown once, here), download a
// site's Windows installer (an MSI holding a new code of its own), list, revoke. The list never
// holds the code itself.
import { useState, type FormEvent } from 'react';
import { api, download, getAll, saveFile } from '../lib/api';
import { msiexecLine } from '../lib/download';
import { can, useAuth } from '../lib/auth';
import { fmtTime } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { usePaged } from '../lib/paged';
import type { Client, EnrollmentCode } from '../lib/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/status';
import { Actor, EntityRef } from '../components/Names';

export function EnrollmentPage() {
  const { user } = useAuth();
  const admin = can(user, 'admin');
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const codes = usePaged<EnrollmentCode>('/api/v1/enrollment-codes', {});
  const [siteId, setSiteId] = useState('');
  const [hours, setHours] = useState(24);
  const [created, setCreated] =
    useState<{ code: string; expires_at: string; linux?: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [msi, setMsi] = useState<{ site: string; file: string; expires: string } | null>(null);
  const [msiBusy, setMsiBusy] = useState(false);

  const sites = (clients.data ?? []).flatMap((c) => c.sites.map((s) => ({ ...s, client: c.name })));
  const siteName = (id: string) => {
    const s = sites.find((x) => x.id === id);
    return s ? `${s.client} / ${s.name}` : id;
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    try {
      const ans = await api.post<{
        id: string; code: string; expires_at: string; install?: { linux?: string };
      }>('/api/v1/enrollment-codes', { site_id: siteId, expires_in_s: Math.round(hours * 3600) },
        { wait: 5000 });
      setCreated({ code: ans.code, expires_at: ans.expires_at, linux: ans.install?.linux });
      codes.reload();
    } catch (err) {
      setError(err);
    }
  };

  // GET /api/v1/sites/{id}/installer?platform=windows: a new code, inside the site's MSI.
  const windowsInstaller = async () => {
    if (!siteId) return;
    setError(null);
    setMsi(null);
    setMsiBusy(true);
    try {
      const file = await download(`/api/v1/sites/${encodeURIComponent(siteId)}/installer`,
        { platform: 'windows', expires_in_s: Math.round(hours * 3600) }, 'gururmm-agent.msi');
      saveFile(file);
      setMsi({ site: siteId, file: file.fileName,
        expires: file.headers.get('x-enrollment-code-expires') ?? '' });
      codes.reload();
    } catch (err) {
      setError(err);
    } finally {
      setMsiBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setError(null);
    try {
      await api.post(`/api/v1/enrollment-codes/${encodeURIComponent(id)}/revoke`, {}, { wait: 5000 });
      codes.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>Enrollment codes</h1>
      {admin && (
        <form className="toolbar" onSubmit={create}>
          <label>
            Site
            <select required value={siteId} onChange={(e) => setSiteId(e.target.value)}>
              <option value="">choose…</option>
              {sites.map((s) => <option key={s.id} value={s.id}>{`${s.client} / ${s.name}`}</option>)}
            </select>
          </label>
          <label>
            Valid for (hours)
            <input type="number" min={1} max={24 * 30} value={hours}
                   onChange={(e) => setHours(Number(e.target.value))} />
          </label>
          <button type="submit">Create code</button>
          <button type="button" disabled={!siteId || msiBusy} onClick={() => void windowsInstaller()}
                  title="An installer for this site with a new enrollment code in it">
            {msiBusy ? 'Making the installer…' : 'Windows installer (.msi)'}
          </button>
        </form>
      )}
      {msi && (
        <div className="once" role="status">
          <p>
            Downloaded <code>{msi.file}</code>, the Windows installer of {siteName(msi.site)}. It
            holds a new enrollment code of its own
            {msi.expires ? <> (valid until {fmtTime(msi.expires)})</> : null}: keep the file as
            private as the code. Install silently in an administrator's command prompt:
          </p>
          <pre className="code install-line">{msiexecLine(msi.file)}</pre>
          <button type="button"
                  onClick={() => void navigator.clipboard?.writeText(msiexecLine(msi.file))}>
            Copy install command
          </button>{' '}
          <button type="button" onClick={() => setMsi(null)}>Done</button>
        </div>
      )}
      {created && (
        <div className="once" role="status">
          <p>
            New code (shown only now; copy it): <code className="code">{created.code}</code>
          </p>
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.code)}>
            Copy code
          </button>
          {created.linux ? (
            <>
              <p>
                Install on a Linux machine (Debian, Ubuntu): paste this line into a shell there. It
                downloads the agent from this server, checks it, installs it and enrolls the machine.
              </p>
              <pre className="code install-line">{created.linux}</pre>
              <button type="button"
                      onClick={() => void navigator.clipboard?.writeText(created.linux ?? '')}>
                Copy install line
              </button>
              <p className="muted">
                The line holds the code: it stops working when the code expires
                ({fmtTime(created.expires_at)}) or is revoked.
              </p>
            </>
          ) : (
            <p className="muted">
              Expires {fmtTime(created.expires_at)}. This server offers no install line (no agent
              package or enrollment credential): on the machine, <code>RMM_CODE=… rmm-agent enroll
              --server … --enroll-creds …</code> (docs/enrollment.md).
            </p>
          )}{' '}
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
      <ErrorBox error={error} what="change enrollment codes" />
      {codes.loading && codes.items.length === 0 && <Loading what="enrollment codes" />}
      <ErrorBox error={codes.error} what="load enrollment codes" onRetry={codes.reload} />
      {!codes.loading && !codes.error && codes.items.length === 0 && <Empty>No enrollment codes.</Empty>}
      {codes.items.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Created</th>
              <th scope="col">By</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {codes.items.map((c) => {
              const expired = Date.parse(c.expires_at) < Date.now();
              return (
                <tr key={c.id}>
                  <td><EntityRef kind="site" id={c.site_id} name={c.site_name ? `${c.client_name ?? ''} / ${c.site_name}` : siteName(c.site_id)} /></td>
                  <td>{fmtTime(c.created_at)}</td>
                  <td><Actor actor={c.created_by} name={c.created_by_name} /></td>
                  <td>{fmtTime(c.expires_at)}</td>
                  <td>
                    <Badge kind={c.revoked || expired ? 'offline' : 'online'}>
                      {c.revoked ? 'revoked' : expired ? 'expired' : 'valid'}
                    </Badge>
                  </td>
                  {admin && (
                    <td>
                      {!c.revoked && !expired && (
                        <button type="button" onClick={() => void revoke(c.id)}>Revoke</button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {codes.hasMore && <button type="button" onClick={codes.more}>Load more</button>}
    </section>
  );
}
