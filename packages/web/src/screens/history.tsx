import { unwrap, type Schemas } from '../api/client';
import { dateTime } from '../components/format';
import { Empty, ErrorNote, Loading } from '../components/status';
import { Link } from '../state/router';
import { useSignedIn } from '../state/session';
import { usePages } from '../state/use-pages';

export function HistoryScreen() {
  return (
    <main>
      <h1>History</h1>
      <PastJobs />
      <CreditMovements />
    </main>
  );
}

function PastJobs() {
  const { api } = useSignedIn();
  const jobs = usePages<Schemas['JobSummary']>(async (cursor) => {
    const page = unwrap(await api.GET('/api/v1/jobs', { params: { query: { limit: 20, ...(cursor ? { cursor } : {}) } } }), 'loading your jobs');
    return { items: page.jobs, next: page.next_cursor };
  }, [api]);
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      {jobs.status === 'error' && <ErrorNote message={`Could not load your jobs: ${jobs.error}`} onRetry={jobs.reload} />}
      {jobs.status === 'ready' && jobs.items.length === 0 && (
        <Empty>
          No jobs yet. <Link to="/">Upload your first photos</Link>.
        </Empty>
      )}
      {jobs.items.length > 0 && (
        <div className="table-scroll">
          <table id="jobs">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Marketplace</th>
                <th scope="col">Status</th>
                <th scope="col">Pictures</th>
                <th scope="col">Credits</th>
                <th scope="col">Results</th>
              </tr>
            </thead>
            <tbody>
              {jobs.items.map((job) => (
                <tr key={job.job_id} data-job-id={job.job_id}>
                  <td>{dateTime(job.created_at)}</td>
                  <td>{job.pipeline ?? '—'}</td>
                  <td>{job.status.replaceAll('_', ' ')}</td>
                  <td>
                    {job.completed} of {job.total} done{job.failed ? `, ${job.failed} failed` : ''}
                    {job.cancelled ? `, ${job.cancelled} cancelled` : ''}
                  </td>
                  <td>{job.credits_charged}</td>
                  <td>
                    {job.files_deleted ? (
                      <span className="muted">no longer kept</span>
                    ) : (
                      <Link to={job.status === 'uploaded' ? `/jobs/${job.job_id}/choose` : `/jobs/${job.job_id}`}>{job.status === 'uploaded' ? 'Choose and start' : 'Open'}</Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.status === 'loading' && <Loading what="your jobs" />}
      {jobs.hasMore && jobs.status === 'ready' && (
        <button type="button" onClick={jobs.loadMore}>
          Show older jobs
        </button>
      )}
    </section>
  );
}

const KIND_WORDS: Record<string, string> = {
  signup: 'free credits',
  purchase: 'bought',
  adjustment: 'adjustment',
  hold: 'reserved',
  capture: 'charged',
  release: 'given back',
  expire: 'reservation expired',
  reversal: 'refund or dispute',
  reinstatement: 'dispute won',
};

function CreditMovements() {
  const { api } = useSignedIn();
  const movements = usePages<Schemas['HistoryPage']['items'][number]>(async (cursor) => {
    const page = unwrap(await api.GET('/credits/history', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } }), 'loading your credits');
    return { items: page.items, next: page.next_cursor };
  }, [api]);
  return (
    <section aria-labelledby="credits-title">
      <h2 id="credits-title">Credits</h2>
      {movements.status === 'error' && <ErrorNote message={`Could not load your credit history: ${movements.error}`} onRetry={movements.reload} />}
      {movements.status === 'ready' && movements.items.length === 0 && <Empty>No credit movements yet.</Empty>}
      {movements.items.length > 0 && (
        <div className="table-scroll">
          <table id="credit-history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Change</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {movements.items.map((item) => (
                <tr key={item.id} data-kind={item.kind}>
                  <td>{dateTime(item.created_at)}</td>
                  <td>{KIND_WORDS[item.kind] ?? item.kind}</td>
                  <td className={item.delta < 0 ? 'minus' : 'plus'}>{item.delta > 0 ? `+${item.delta}` : item.delta}</td>
                  <td>{item.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {movements.status === 'loading' && <Loading what="your credit history" />}
      {movements.hasMore && movements.status === 'ready' && (
        <button type="button" onClick={movements.loadMore}>
          Show older movements
        </button>
      )}
    </section>
  );
}
