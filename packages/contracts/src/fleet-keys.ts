/**
 * Redis keys shared between services beside BullMQ's own: the processors' fleet-wide Qwen gate
 * (which the gateway reads to report a paused provider on /ready) and the progress channels
 * (which the processor publishes to and the gateway subscribes to).
 */
export function fleetKeys(prefix: string) {
  return {
    nextSlot: `${prefix}:qwen:next-slot`,
    inFlight: `${prefix}:qwen:in-flight`,
    coolDown: `${prefix}:qwen:cool-down-until`,
    paused: `${prefix}:qwen:paused`,
    throttled: (bullJobId: string) => `${prefix}:qwen:throttled:${bullJobId}`,
    /** Micro-USD reserved for calls on one UTC day (YYYY-MM-DD), for the daily spend cap. */
    spend: (day: string) => `${prefix}:qwen:spend:${day}`,
    /** Held by the image whose call will make the output that identical photos then reuse. */
    twin: (contentKey: string) => `${prefix}:qwen:twin:${contentKey}`,
  };
}

/** Redis pub/sub channel on which the processor announces that a job's progress changed. */
export const progressChannel = (prefix: string, jobId: string) => `${prefix}:progress:${jobId}`;

/** The job id in a progress channel's name, or null for another channel. */
export function jobIdOfProgressChannel(prefix: string, channel: string): string | null {
  const start = progressChannel(prefix, '');
  return channel.startsWith(start) ? channel.slice(start.length) : null;
}
