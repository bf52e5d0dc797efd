import type { Schemas } from '@masterpost/client';
import { failure, reach, type Connection } from './gateway';

export type Balance = Schemas['CreditBalance'];

/** The seller's credits: `available` is what a new job may reserve (balance minus what running jobs hold). */
export async function fetchBalance(connection: Connection): Promise<Balance> {
  const answer = await reach(connection, () => connection.client.GET('/credits/balance'));
  if (!answer.data) throw failure('reading the balance', connection, answer);
  return answer.data;
}
