import type { Pool } from '@masterpost/platform';

/** The gallery's rows: each item holds its own copies of both pictures (keys into storage). */
export interface GalleryRow {
  id: string;
  title: string;
  description: string;
  pipeline: string;
  original_key: string;
  original_format: string;
  processed_key: string;
  processed_format: string;
}

export type NewGalleryItem = GalleryRow & { source_image_id: string | null };

export class GalleryRepository {
  constructor(private readonly pool: Pool) {}

  async latest(limit: number): Promise<GalleryRow[]> {
    const { rows } = await this.pool.query<GalleryRow>('select * from gallery_items order by created_at desc limit $1', [limit]);
    return rows;
  }

  async find(id: string): Promise<GalleryRow | null> {
    const { rows } = await this.pool.query<GalleryRow>('select * from gallery_items where id = $1', [id]);
    return rows[0] ?? null;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>('select count(*)::int as count from gallery_items');
    return rows[0]?.count ?? 0;
  }

  async insert(item: NewGalleryItem): Promise<GalleryRow> {
    const { rows } = await this.pool.query<GalleryRow>(
      `insert into gallery_items (id, title, description, pipeline, original_key, original_format, processed_key, processed_format, source_image_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *`,
      [item.id, item.title, item.description, item.pipeline, item.original_key, item.original_format, item.processed_key, item.processed_format, item.source_image_id],
    );
    return rows[0]!;
  }
}
