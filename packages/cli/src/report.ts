import { ExitCode } from './exit-codes';
import type { Progress } from './follow-job';
import type { RejectedFile } from './job-state';
import { plural } from './output';
import { formatSeconds } from './progress';

/**
 * The result a seller reads when a job ends (and `status` shows): what was delivered and
 * where, how many pictures pass the marketplace's checks and which rule each other one breaks,
 * what was charged, and every picture not delivered with its reason: failed at processing or
 * refused at upload. Nothing is left out silently, and the exit status says whether all
 * pictures made it.
 */
export interface Report {
  lines: string[];
  exitCode: ExitCode;
}


export function jobReport(progress: Progress, extra: { rejected?: RejectedFile[]; outDir?: string; available?: number } = {}): Report {
  const lines: string[] = [];
  const rejected = extra.rejected ?? [];
  const marketplace = progress.pipeline ?? 'the marketplace';
  const where = extra.outDir ? ` in ${extra.outDir} (with manifest.json)` : '';
  lines.push(`Delivered ${progress.completed} of ${plural(progress.total, 'picture')}${where}.`);

  const checked = progress.images.filter((image) => image.status === 'done' && image.compliance);
  if (checked.length) {
    const failing = checked.filter((image) => image.compliance?.passed === false);
    lines.push(`${marketplace} checks: ${checked.length - failing.length} of ${plural(checked.length, 'picture')} pass.`);
    for (const image of failing) {
      const broken = (image.compliance?.rules ?? []).filter((rule) => !rule.pass).map((rule) => `${rule.rule} (expected ${rule.expected}, got ${rule.actual})`);
      lines.push(`  ${image.output_name ?? image.filename} fails ${broken.join('; ') || 'a check'}`);
    }
  }

  const reused = progress.images.filter((image) => image.status === 'done' && image.charged === false).length;
  const available = extra.available !== undefined ? `; ${extra.available} credits available` : '';
  const reuse = reused ? ` (${plural(reused, 'picture')} reused an output already paid for, at no charge)` : '';
  lines.push(`${progress.credits_charged} credits charged${reuse}${available}.`);

  const notDelivered = progress.images.filter((image) => image.status === 'failed' || image.status === 'cancelled');
  if (notDelivered.length) {
    lines.push(`Not delivered (${notDelivered.length}):`);
    for (const image of notDelivered) {
      const why = image.status === 'cancelled' ? 'cancelled' : image.error ? `${image.error.code}: ${image.error.message}` : 'failed';
      lines.push(`  ${image.filename}: ${why}`);
    }
  }
  lines.push(...rejectedReport(rejected));

  const allDelivered = progress.completed === progress.total && notDelivered.length === 0 && rejected.length === 0;
  return { lines, exitCode: allDelivered ? ExitCode.Delivered : ExitCode.SomeFailed };
}

/** One line for a job that is still going. */
export function runningLine(progress: Progress): string {
  const eta = progress.eta_seconds > 0 ? `, about ${formatSeconds(progress.eta_seconds)} left` : '';
  const failed = progress.failed ? `, ${progress.failed} failed` : '';
  return `Job ${progress.job_id} (${progress.pipeline ?? 'not started'}): ${progress.status}, ${progress.completed + progress.failed + progress.cancelled}/${progress.total} pictures done${failed}${eta}; ${progress.credits_reserved} credits reserved, ${progress.credits_charged} charged so far.`;
}

export function rejectedReport(rejected: RejectedFile[]): string[] {
  return rejected.length ? [`Refused at upload, not charged (${rejected.length}):`, ...rejected.map((file) => `  ${file.filename}: ${file.code}: ${file.message}`)] : [];
}

type Picture = Progress['images'][number];
type Drift = NonNullable<NonNullable<Picture['compliance']>['drift']>;

/** The drift report in a few words and numbers, as the web page's badge shows it on hover. */
export function driftSummary(drift: Drift): string {
  const pixels = drift.product_pixels === 'original' ? 'your photo' : 'the AI output';
  const detail = `${drift.detail_change >= 0 ? '+' : ''}${Math.round(drift.detail_change * 100)}%`;
  return `drift ${drift.verdict} (colour ΔE ${drift.delta_e_mean.toFixed(1)}, p95 ${drift.delta_e_p95.toFixed(1)}; structure SSIM ${drift.ssim.toFixed(2)}; detail ${detail}; product pixels from ${pixels}${drift.product_pixels_reason ? `: ${drift.product_pixels_reason}` : ''})`;
}

/**
 * One tab-separated line a picture (`status --pictures`): its id (what `edit` and `image` take),
 * its file and output, its status, the marketplace checks and the drift report; for a picture
 * not delivered, why.
 */
export function pictureLine(picture: Picture): string {
  const name = picture.output_name && picture.output_name !== picture.filename ? `${picture.filename} -> ${picture.output_name}` : picture.filename;
  const columns = [picture.image_id, name, picture.status];
  if (picture.status === 'failed' || picture.status === 'cancelled') {
    columns.push(picture.error ? `${picture.error.code}: ${picture.error.message}` : picture.status, 'not charged');
    return columns.join('\t');
  }
  const compliance = picture.compliance;
  if (compliance) {
    const broken = compliance.rules.filter((rule) => !rule.pass).map((rule) => `${rule.rule} (expected ${rule.expected}, got ${rule.actual})`);
    columns.push(compliance.passed ? 'checks pass' : `checks FAIL: ${broken.join('; ') || 'a check'}`);
    if (compliance.drift) columns.push(driftSummary(compliance.drift));
  }
  if (picture.shadow) columns.push(`shadow ${picture.shadow}`);
  if (picture.charged === false) columns.push('reused, not charged');
  return columns.join('\t');
}
