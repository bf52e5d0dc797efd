import { defaults, env, parseConfig } from '@masterpost/platform';
import { z } from 'zod';
import { driftModes } from './model';
import { SIM_RESULT_HOST, startSim } from './server';

/** Runs the stand-in as a process: the local default for DashScope and the server tests call. */
async function main(): Promise<void> {
  const config = parseConfig('dashscope-sim', {
    SIM_PORT: env.port(defaults.simPort),
    SIM_RESULT_PORT: env.port(defaults.simResultPort),
    SIM_HOST: env.string('127.0.0.1'),
    // Written into result URLs; the default is a host of DashScope's real shape (SIM_RESULT_HOST).
    SIM_RESULT_ORIGIN: env.url(`http://${SIM_RESULT_HOST}`),
    SIM_API_KEY: env.optionalString(),
    SIM_LATENCY_MS: env.int(0),
    SIM_JITTER_MS: env.int(0),
    SIM_RATE_PER_SECOND: env.number(0),
    // The window the rate is counted over (1000: a sliding second; 5000 gives 1.2 a second a meaning: 6 in any 5 s).
    SIM_RATE_WINDOW_MS: env.int(1000, 1),
    SIM_ERROR_RATE: env.number(0, 0, 1),
    // Every output drifts this way (model.ts driftModes): to see the fidelity check at work locally.
    SIM_DRIFT: z.enum(driftModes).default('none'),
  });
  const sim = await startSim(
    {
      ...(config.SIM_API_KEY ? { apiKey: config.SIM_API_KEY } : {}),
      latencyMs: config.SIM_LATENCY_MS,
      jitterMs: config.SIM_JITTER_MS,
      ratePerSecond: config.SIM_RATE_PER_SECOND,
      rateWindowMs: config.SIM_RATE_WINDOW_MS,
      errorRate: config.SIM_ERROR_RATE,
      drift: config.SIM_DRIFT,
      resultOrigin: config.SIM_RESULT_ORIGIN.replace(/\/$/, ''),
    },
    { port: config.SIM_PORT, resultPort: config.SIM_RESULT_PORT, host: config.SIM_HOST },
  );
  console.log(JSON.stringify({ msg: 'dashscope-sim listening', api: sim.baseUrl, results: `${config.SIM_RESULT_ORIGIN} on port ${sim.resultAddress.port}` }));
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
