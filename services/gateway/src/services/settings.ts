import { AppError, ErrorCode, resolveRenderSpec, SettingsError, type PipelineId } from '@masterpost/contracts';

/** Settings checked against a preset, or 400 `invalid_settings` naming the field (`settings.shadow.opacity`). */
export function checkSettings(pipeline: PipelineId, settings: unknown): void {
  try {
    resolveRenderSpec(pipeline, settings);
  } catch (error) {
    if (error instanceof SettingsError) {
      throw new AppError(400, ErrorCode.InvalidSettings, `settings.${error.field}: ${error.message.slice(error.field.length + 2)}`, { field: `settings.${error.field}` });
    }
    throw error;
  }
}
