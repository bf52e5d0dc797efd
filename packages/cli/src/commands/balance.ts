import { fetchBalance } from '../balance';
import { ExitCode } from '../exit-codes';
import { signedIn } from '../gateway';
import { print } from '../output';

/** `masterpost balance`: the credits, and what running jobs hold of them. */
export async function showBalance(options: { url?: string }): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const balance = await fetchBalance(connection);
  print(`${balance.available} credits available (balance ${balance.balance}, ${balance.reserved} reserved by jobs in progress).`);
  if (balance.owed) print(`${balance.owed} credits are owed (a refund or dispute took back more than was left); buy credits at ${connection.url}`);
  return ExitCode.Delivered;
}
