import { useEffect, useState, type FormEvent } from 'react';
import { messageOf, unwrap } from '../api/client';
import { saveBlob } from '../api/files';
import { credits } from '../components/format';
import { Loading } from '../components/status';
import { ResendVerification } from '../components/verify-notice';
import { navigate } from '../state/router';
import { useSignedIn } from '../state/session';
import { PasswordForm } from './password-form';

type Note = { text: string; error: boolean } | null;

/** A form's outcome, in a live region that is in the page before anything is said in it. */
function Outcome({ note, id }: { note: Note; id: string }) {
  return (
    <div role="status" id={id}>
      {note && <p className={note.error ? 'error' : 'success'}>{note.text}</p>}
    </div>
  );
}

/** The seller's account: address, mails, password, their data, and leaving. */
export function AccountScreen() {
  const { session, me, signOut, refreshMe, refreshBalance } = useSignedIn();
  // The address, the preferences and the balance to give up are read fresh each time the screen opens.
  useEffect(() => {
    refreshMe().catch(() => undefined);
    refreshBalance().catch(() => undefined);
  }, [refreshMe, refreshBalance]);

  return (
    <main className="narrow account">
      <h1>Account</h1>
      <p>
        Signed in as <strong id="account-email">{session.email}</strong>.
      </p>
      {me ? (
        <>
          <EmailSection />
          <MailsSection />
          <PasswordSection />
          <DataSection />
          <DeleteSection />
        </>
      ) : (
        <Loading what="your account" />
      )}
      <h2>Sign out</h2>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </main>
  );
}

function EmailSection() {
  const { api, me, refreshMe } = useSignedIn();
  const [note, setNote] = useState<Note>(null);
  const [busy, setBusy] = useState(false);
  if (!me) return null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setNote(null);
    try {
      const body = { new_email: String(form.get('new_email') ?? ''), password: String(form.get('password') ?? '') };
      const answer = unwrap(await api.POST('/auth/email', { body }), 'asking for the new address');
      setNote({ text: `Sent: ${answer.message}.`, error: false });
      formElement.reset();
      await refreshMe();
    } catch (error) {
      setNote({ text: messageOf(error), error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="email-title">
      <h2 id="email-title">Email address</h2>
      <p id="email-state">
        {me.email_verified ? (
          <>
            <strong>{me.email}</strong> is confirmed.
          </>
        ) : (
          <>
            <strong>{me.email}</strong> is not confirmed yet: follow the link we mailed there. <ResendVerification label="Send the link again" />
          </>
        )}
      </p>
      {me.pending_email && (
        <p className="warning" id="pending-email">
          Waiting for confirmation from <strong>{me.pending_email}</strong>: the address changes once the link mailed there is followed.
        </p>
      )}
      {me.has_password ? (
        <form onSubmit={(event) => void submit(event)}>
          <label>
            New email address
            <input name="new_email" type="email" autoComplete="email" required maxLength={254} id="new-email" />
          </label>
          <label>
            Your password
            <input name="password" type="password" autoComplete="current-password" required id="email-password" />
          </label>
          <button type="submit" disabled={busy} id="change-email">
            {busy ? 'Sending…' : 'Send a confirmation link to the new address'}
          </button>
        </form>
      ) : (
        <p className="muted">Choose a password first, then the address can be changed.</p>
      )}
      <Outcome note={note} id="email-outcome" />
    </section>
  );
}

function MailsSection() {
  const { api, me, applyMe } = useSignedIn();
  const [note, setNote] = useState<Note>(null);
  // The box follows the click at once; the account's answer (or a refusal, which puts it back) follows.
  const [wanted, setWanted] = useState<boolean | null>(null);
  if (!me) return null;

  const change = async (on: boolean) => {
    setWanted(on);
    setNote(null);
    try {
      applyMe(unwrap(await api.POST('/auth/preferences', { body: { notify_pictures_ready: on } }), 'saving the preference'));
      setNote({ text: on ? 'Saved: we mail you when a job’s pictures are ready.' : 'Saved: no mail when pictures are ready.', error: false });
    } catch (error) {
      setNote({ text: messageOf(error), error: true });
    } finally {
      setWanted(null);
    }
  };

  return (
    <section aria-labelledby="mails-title">
      <h2 id="mails-title">Mails</h2>
      <label className="inline">
        <input
          type="checkbox"
          checked={wanted ?? me.notify_pictures_ready}
          aria-busy={wanted !== null}
          onChange={(event) => void change(event.target.checked)}
          id="notify-pictures-ready"
        />
        Mail me when my pictures are ready
      </label>
      <p className="muted">Mails about your account (links, receipts, a low balance) always come.</p>
      <Outcome note={note} id="mails-outcome" />
    </section>
  );
}

function PasswordSection() {
  const { me } = useSignedIn();
  const [changed, setChanged] = useState(false);
  if (!me) return null;
  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">{me.has_password ? 'Change the password' : 'Choose a password'}</h2>
      <p className="muted">Your other sessions end when the password changes.</p>
      <div role="status">
        {changed && <p className="success">Password changed.</p>}
      </div>
      <PasswordForm askCurrent={me.has_password} onDone={() => setChanged(true)} />
    </section>
  );
}

/** Content-Disposition's filename, or a plain name. */
function filenameOf(response: Response): string {
  const match = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '');
  return match?.[1] ?? 'masterpost-data.zip';
}

function DataSection() {
  const { api } = useSignedIn();
  const [note, setNote] = useState<Note>(null);
  const [busy, setBusy] = useState(false);

  const download = async () => {
    setBusy(true);
    setNote({ text: 'Gathering your data…', error: false });
    try {
      const answer = await api.GET('/auth/account/export', { parseAs: 'blob', cache: 'no-store' });
      saveBlob(unwrap(answer, 'the download of your data') as Blob, filenameOf(answer.response));
      setNote({ text: 'Your data is downloading.', error: false });
    } catch (error) {
      setNote({ text: messageOf(error), error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="data-title">
      <h2 id="data-title">Your data</h2>
      <p>A ZIP of everything we hold on you: the account, your jobs, your credit history, your API keys and webhooks (without their secrets), and the photos and pictures still kept.</p>
      <button type="button" onClick={() => void download()} disabled={busy} id="export-data">
        {busy ? 'Preparing…' : 'Download my data'}
      </button>
      <Outcome note={note} id="export-outcome" />
    </section>
  );
}

const CONFIRM_WORDS = 'delete my account';

function DeleteSection() {
  const { api, me, balance, signOut } = useSignedIn();
  const [note, setNote] = useState<Note>(null);
  const [busy, setBusy] = useState(false);
  if (!me) return null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const confirm = String(form.get('confirm') ?? '').trim().toLowerCase();
    if (confirm !== CONFIRM_WORDS) {
      setNote({ text: `Type the words “${CONFIRM_WORDS}” to confirm.`, error: true });
      return;
    }
    setBusy(true);
    setNote(null);
    try {
      const body = { confirm: CONFIRM_WORDS, ...(me.has_password ? { password: String(form.get('password') ?? '') } : {}) } as const;
      const gone = unwrap(await api.DELETE('/auth/account', { body }), 'deleting the account');
      // To the goodbye first: this screen needs a session, and is gone before the session is.
      navigate(`/goodbye?credits=${gone.forfeited_credits}&jobs=${gone.jobs_deleted}`, { replace: true });
      signOut();
    } catch (error) {
      setNote({ text: messageOf(error), error: true });
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="delete-title" className="danger-zone">
      <h2 id="delete-title">Delete my account</h2>
      <p>Your photos, pictures, API keys and webhooks are deleted at once, and you are signed out everywhere. This cannot be undone.</p>
      <p id="forfeit">
        {balance === null ? (
          'Reading your balance…'
        ) : balance.balance > 0 ? (
          <>
            The <strong id="forfeit-credits">{credits(balance.balance)}</strong> left on the account are given up with it: they are not refunded.
          </>
        ) : (
          <>
            <strong id="forfeit-credits">{credits(0)}</strong> left on the account: nothing is given up.
          </>
        )}
      </p>
      <form onSubmit={(event) => void submit(event)}>
        {me.has_password && (
          <label>
            Your password
            <input name="password" type="password" autoComplete="current-password" required id="delete-password" />
          </label>
        )}
        <label>
          Type “{CONFIRM_WORDS}” to confirm
          <input name="confirm" autoComplete="off" autoCapitalize="none" spellCheck={false} required id="delete-confirm" />
        </label>
        <button type="submit" className="danger" disabled={busy || balance === null} id="delete-account">
          {busy ? 'Deleting…' : 'Delete my account'}
        </button>
      </form>
      <Outcome note={note} id="delete-outcome" />
    </section>
  );
}
