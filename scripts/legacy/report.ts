import type { SellerOutcome } from './importer';
import type { ImportPlan } from './plan';

/**
 * The report an operator keeps: what was read, imported, merged and skipped, and the credits of
 * the source against the credits granted, with every difference explained row by row. The
 * totals always balance: each whole-number credit of the source is either granted (now or by an
 * earlier run) or on a line saying why not.
 */
export interface ImportReport {
  dryRun: boolean;
  source: string;
  rowsRead: number;
  sellers: number;
  imported: number;
  updated: number;
  unchanged: number;
  conflicts: number;
  deleted: number;
  mergedRows: number;
  skippedRows: number;
  creditsInSource: number;
  creditsGranted: number;
  creditsGrantedThisRun: number;
  historyAdded: number;
  stripeIdsAdded: number;
  withoutAccessCode: number;
  differences: Array<{ what: string; credits: number; why: string }>;
  balanced: boolean;
  lines: string[];
}

export function buildReport(plan: ImportPlan, outcomes: SellerOutcome[], dryRun: boolean): ImportReport {
  const count = (status: SellerOutcome['status']) => outcomes.filter((outcome) => outcome.status === status).length;
  const differences: ImportReport['differences'] = [];
  for (const row of plan.skipped) {
    if (row.credits !== null && row.credits !== 0) differences.push({ what: `${row.row} ${JSON.stringify(row.email)}`, credits: row.credits, why: `skipped: ${row.reason}` });
  }
  for (const outcome of outcomes) {
    if (outcome.status === 'conflict' || outcome.status === 'deleted') {
      if (outcome.seller.credits !== 0) {
        const why = outcome.status === 'conflict'
          ? 'not imported: an account with this address was made in the new app, not by the import; resolve by hand'
          : 'not imported: the seller came across before and deleted their account in the new app (its credits were given up with it)';
        differences.push({ what: `${outcome.seller.rows.join(' + ')} ${outcome.seller.email}`, credits: outcome.seller.credits, why });
      }
    } else if (outcome.totalGranted !== outcome.seller.credits) {
      differences.push({
        what: `${outcome.seller.rows.join(' + ')} ${outcome.seller.email}`,
        credits: outcome.seller.credits - outcome.totalGranted,
        why: `the source now shows ${outcome.seller.credits}, ${outcome.totalGranted} were granted by an earlier run: credits are never taken back by the import`,
      });
    }
  }
  const creditsGranted = outcomes.filter((outcome) => outcome.status !== 'conflict' && outcome.status !== 'deleted').reduce((sum, outcome) => sum + outcome.totalGranted, 0);
  const explained = differences.reduce((sum, difference) => sum + difference.credits, 0);
  const report: Omit<ImportReport, 'lines'> = {
    dryRun,
    source: `${plan.source} ${plan.label}`,
    rowsRead: plan.rowsRead,
    sellers: plan.sellers.length,
    imported: count('imported'),
    updated: count('updated'),
    unchanged: count('unchanged'),
    conflicts: count('conflict'),
    deleted: count('deleted'),
    mergedRows: plan.merged.reduce((sum, merge) => sum + merge.rows.length, 0),
    skippedRows: plan.skipped.length,
    creditsInSource: plan.creditsInSource,
    creditsGranted,
    creditsGrantedThisRun: outcomes.reduce((sum, outcome) => sum + outcome.granted, 0),
    historyAdded: outcomes.reduce((sum, outcome) => sum + outcome.historyAdded, 0),
    stripeIdsAdded: outcomes.reduce((sum, outcome) => sum + outcome.stripeIdsAdded, 0),
    withoutAccessCode: outcomes.filter((outcome) => outcome.status === 'imported' && outcome.seller.accessCode === null).length,
    differences,
    balanced: creditsGranted + explained === plan.creditsInSource,
  };
  return { ...report, lines: render(report, plan) };
}

function render(report: Omit<ImportReport, 'lines'>, plan: ImportPlan): string[] {
  const lines = [
    `Import from the old Masterpost: ${report.source}${report.dryRun ? '  (DRY RUN: nothing was written)' : ''}`,
    `sellers read: ${report.rowsRead} rows`,
    `sellers imported: ${report.imported} new accounts`,
    `sellers updated: ${report.updated} (imported before; credits, history or Stripe ids added now)`,
    `sellers unchanged: ${report.unchanged} (imported before, nothing new)`,
    `sellers merged: ${report.mergedRows} rows differing only in the case of their email became ${plan.merged.length} sellers (credits added)`,
    ...plan.merged.map((merge) => `  - ${merge.email}: ${merge.sourceEmails.join(', ')} (${merge.rows.join(', ')})`),
    `sellers skipped: ${report.skippedRows} rows`,
    ...plan.skipped.map((row) => `  - ${row.row} ${JSON.stringify(row.email)}: ${row.reason}`),
    `not imported (address taken in the new app): ${report.conflicts}`,
    ...(report.deleted > 0 ? [`not imported (deleted their account in the new app): ${report.deleted}`] : []),
    `history entries added: ${report.historyAdded}; old Stripe ids recorded: ${report.stripeIdsAdded}`,
    `transactions not moved: ${plan.orphanTransactions.length}`,
    ...plan.orphanTransactions.slice(0, 200).map((row) => `  - ${row.row} (${row.owner}): ${row.reason}`),
    ...(plan.orphanTransactions.length > 200 ? [`  - … and ${plan.orphanTransactions.length - 200} more`] : []),
    ...plan.notMoved,
    ...(report.withoutAccessCode > 0 ? [`accounts without an access code (cannot sign in until given one): ${report.withoutAccessCode}`] : []),
    `credits in the source: ${report.creditsInSource}`,
    `credits granted: ${report.creditsGranted} (${report.creditsGrantedThisRun} by this run)`,
  ];
  if (report.differences.length === 0) {
    lines.push(`difference: 0`);
  } else {
    lines.push(`difference: ${report.creditsInSource - report.creditsGranted}, row by row:`);
    for (const difference of report.differences) lines.push(`  - ${difference.what}: ${difference.credits} credits: ${difference.why}`);
  }
  lines.push(report.balanced ? 'accounted for: every credit of the source is granted or explained above' : 'NOT ACCOUNTED FOR: the differences above do not add up; do not switch over');
  return lines;
}
