export { backoff, sleep, type BackoffOptions } from "./backoff.js";
export { Drain, type DrainOptions, type DrainPass } from "./drain.js";
export { KeyedMutex } from "./keyedMutex.js";
export { inSlices, yieldToEventLoop } from "./slices.js";
export { mapConcurrent } from "./mapConcurrent.js";
