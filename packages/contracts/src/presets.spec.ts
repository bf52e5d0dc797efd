import { resolveRenderSpec, SettingsError } from './presets';

describe('resolveRenderSpec', () => {
  it('gives each marketplace its own canvas, coverage and default shadow', () => {
    expect(resolveRenderSpec('amazon', undefined)).toMatchObject({ canvas: { width: 2000, height: 2000 }, coverage: 0.85, shadow: { type: 'none' } });
    expect(resolveRenderSpec('ebay', {})).toMatchObject({ canvas: { width: 1600, height: 1600 }, coverage: 0.8, shadow: { type: 'natural' }, quality: 92 });
    expect(resolveRenderSpec('instagram', {})).toMatchObject({ canvas: { width: 1080, height: 1080 }, coverage: 0.75, shadow: { type: 'drop' } });
    expect(resolveRenderSpec('etsy', {}).safeArea).toEqual({ aspect: 4 / 3 });
  });

  it('merges overrides over the preset', () => {
    const spec = resolveRenderSpec('instagram', { size: { width: 1080, height: 1350 }, shadow: { opacity: 0.2 }, format: 'png' });
    expect(spec.canvas).toEqual({ width: 1080, height: 1350 });
    expect(spec.shadow).toMatchObject({ type: 'drop', opacity: 0.2 });
    expect(spec.format).toBe('png');
  });

  it.each([
    [{ colour: 'red' }, 'settings'],
    [{ shadow: { type: 'sparkle' } }, 'shadow.type'],
    [{ shadow: { opacity: 1.5 } }, 'shadow.opacity'],
    [{ coverage: 0.99 }, 'coverage'],
    [{ quality: 10 }, 'quality'],
    [{ background: 'blue' }, 'background'],
  ])('refuses %j naming %s', (settings, field) => {
    expect(() => resolveRenderSpec('ebay', settings)).toThrow(SettingsError);
    try {
      resolveRenderSpec('ebay', settings);
    } catch (error) {
      expect((error as SettingsError).field).toBe(field);
    }
  });

  it('keeps Amazon pictures within Amazon rules', () => {
    expect(() => resolveRenderSpec('amazon', { background: '#F0F0F0' })).toThrow(/pure white/);
    expect(() => resolveRenderSpec('amazon', { coverage: 0.6 })).toThrow(/85%/);
    expect(() => resolveRenderSpec('amazon', { size: { width: 800, height: 800 } })).toThrow(/at least 1000/);
    expect(() => resolveRenderSpec('instagram', { size: { width: 2000, height: 2000 } })).toThrow(/at most 1350/);
  });
});
