/** Whether dist/ is built and at least as new as every file in src/ (FLEET_FROM_SOURCE=1: never). */
export function distIsFresh(): boolean;
