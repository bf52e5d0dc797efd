import type { Schemas } from '@masterpost/client';
import { usageError } from './exit-codes';
import { failure, reach, type Connection } from './gateway';

/**
 * The choices the gateway offers and its price (GET /api/v1/catalog), read rather than
 * hard-coded so the CLI never offers a marketplace the gateway lacks or quotes an old price.
 */
export type Catalog = Schemas['Catalog'];
export type Marketplace = Schemas['ProcessRequest']['pipeline'];
export type ShadowType = Catalog['shadow_types'][number];

export async function fetchCatalog(connection: Connection): Promise<Catalog> {
  const answer = await reach(connection, () => connection.client.GET('/api/v1/catalog'));
  if (!answer.data) throw failure('reading the catalog', connection, answer);
  return answer.data;
}

export function marketplaceIn(catalog: Catalog, name: string): Marketplace {
  const found = catalog.pipelines.find((pipeline) => pipeline.id === name.toLowerCase());
  if (!found) throw usageError(`unknown marketplace "${name}": choose one of ${catalog.pipelines.map((pipeline) => pipeline.id).join(', ')}`);
  return found.id;
}

export function shadowIn(catalog: Catalog, name: string): ShadowType {
  const found = catalog.shadow_types.find((type) => type === name.toLowerCase());
  if (!found) throw usageError(`unknown shadow "${name}": choose one of ${catalog.shadow_types.join(', ')}`);
  return found;
}
