import { serveOnThread } from '@masterpost/platform';
import { whitenBackground, type ModelOptions, type Placement } from './model';

/** The stand-in's model on a worker thread, so its HTTP side (and its clock) never waits on pixels. */
export interface ModelRequest {
  input: Uint8Array;
  options: ModelOptions;
}
export interface ModelResult {
  png: Uint8Array;
  width: number;
  height: number;
  placement: Placement;
}

serveOnThread<ModelRequest, ModelResult>((request) => whitenBackground(Buffer.from(request.input), request.options));
