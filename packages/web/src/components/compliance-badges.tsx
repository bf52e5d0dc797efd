import type { Schemas } from '../api/client';

type Report = Schemas['ComplianceReport'];
type Drift = Schemas['DriftReport'];

const RULE_NAMES: Record<Report['rules'][number]['rule'], string> = {
  size: 'size',
  format: 'format',
  max_bytes: 'file size',
  pure_white_border: 'white border',
  background_border: 'background',
  coverage: 'coverage',
};

/**
 * One badge a marketplace rule, pass or fail; the numbers are in the badge's tooltip for the
 * mouse and in its accessible name for a screen reader.
 */
export function ComplianceBadges({ report }: { report: Report }) {
  return (
    <ul className="badges" aria-label={`${report.pipeline} checks: ${report.passed ? 'all pass' : 'some fail'}`}>
      {report.rules.map((rule) => {
        const numbers = `${rule.actual}, wanted ${rule.expected}`;
        return (
          <li key={rule.rule} className={`badge ${rule.pass ? 'pass' : 'fail'}`} title={numbers} data-rule={rule.rule} tabIndex={0}>
            <span aria-hidden="true">{rule.pass ? '✓' : '✗'} </span>
            {RULE_NAMES[rule.rule]}
            <span className="sr-only">
              {rule.pass ? ' passes' : ' fails'}: {numbers}
            </span>
          </li>
        );
      })}
      {report.drift && <DriftBadge drift={report.drift} />}
    </ul>
  );
}

const DRIFT_WORDS: Record<Drift['verdict'], string> = { none: 'no drift', minor: 'minor drift', major: 'major drift' };

/** How far the AI's product strayed from the seller's photo (issue 20), with the measures on hover. */
export function DriftBadge({ drift }: { drift: Drift }) {
  const numbers =
    `colour ΔE mean ${drift.delta_e_mean.toFixed(1)} (p95 ${drift.delta_e_p95.toFixed(1)}), structure SSIM ${drift.ssim.toFixed(2)}, ` +
    `detail ${drift.detail_change >= 0 ? '+' : ''}${Math.round(drift.detail_change * 100)}%; product pixels: ${drift.product_pixels === 'original' ? 'your photo' : 'the AI output'}` +
    (drift.product_pixels_reason ? ` (${drift.product_pixels_reason})` : '');
  return (
    <li className={`badge drift-${drift.verdict}`} title={numbers} data-drift={drift.verdict} tabIndex={0}>
      {DRIFT_WORDS[drift.verdict]}
      <span className="sr-only">: {numbers}</span>
    </li>
  );
}
