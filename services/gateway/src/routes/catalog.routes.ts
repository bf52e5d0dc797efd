import { Router } from 'express';
import { acceptedUploadFormats, outputFormats, pipelineIds, presets, shadowTypes, type CatalogAnswer } from '@masterpost/contracts';

/** GET /api/v1/catalog (public): the choices and the price, from the contracts the services run on. */
export function catalogRoutes(settings: { creditsPerPicture: number; maxFiles: number; maxFileBytes: number }): Router {
  const catalog: CatalogAnswer = {
    credits_per_picture: settings.creditsPerPicture,
    pipelines: pipelineIds.map((id) => {
      const preset = presets[id];
      return { id, canvas: preset.canvas, format: preset.format, coverage: preset.coverage, shadow: preset.shadow.type };
    }),
    shadow_types: [...shadowTypes],
    output_formats: [...outputFormats],
    upload: { max_files: settings.maxFiles, max_file_bytes: settings.maxFileBytes, accepted: [...acceptedUploadFormats, 'zip'] },
  };
  const router = Router();
  router.get('/api/v1/catalog', (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(catalog);
  });
  return router;
}
