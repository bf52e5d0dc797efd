import { createContext, useContext, type ReactNode } from 'react';
import { apiClient, unwrap, type Catalog } from '../api/client';
import { useAsync, type AsyncState } from './use-async';

/** The service's choices and price (GET /api/v1/catalog), read once: nothing in the app repeats them. */
const CatalogContext = createContext<AsyncState<Catalog>>({ status: 'loading' });

export function CatalogProvider({ children }: { children: ReactNode }) {
  const catalog = useAsync(async () => unwrap(await apiClient(null).GET('/api/v1/catalog'), 'loading the catalog'), []);
  return <CatalogContext.Provider value={catalog}>{children}</CatalogContext.Provider>;
}

export function useCatalog(): AsyncState<Catalog> {
  return useContext(CatalogContext);
}
