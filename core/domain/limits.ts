/** The service's limits this tool plans around, each where it is documented. */

/** Artifacts per pipeline run (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-prerequisites). */
export const MAX_ARTIFACTS_PER_RUN = 50;

/**
 * Artifacts one step moves: 200 runs of 50 on each side. The tool's own bound (docs/interface.md#limits): its outputs list
 * every artifact, and GitHub caps one output at 1 MB (https://docs.github.com/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idoutputs).
 */
export const MAX_ARTIFACTS_PER_STEP = 10_000;

/** Layers above this fail export runs (docs/azure-service.md#limits: 8 GB per layer); between 8 GB and 8 GiB only warn. */
export const MAX_LAYER_BYTES = 8 * 1024 ** 3;
export const LAYER_WARN_BYTES = 8 * 1000 ** 3;

/**
 * A user-delegation key lives at most 7 days, and a SAS signed with it cannot outlive it
 * (https://learn.microsoft.com/rest/api/storageservices/get-user-delegation-key).
 */
export const USER_DELEGATION_MAX_DAYS = 7;
